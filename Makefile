# kithmeet: `make run` serves the app, `make test` runs every test. Both set themselves up.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FLASK := $(BIN)/flask --app app

.PHONY: run test install install-dev system-test-deps badge-fonts demo migrate benchmark screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

## Serve on SQLite at http://$(HOST):$(PORT) with gunicorn (threaded workers: browsers hold idle connections),
## and the mail worker beside it.
run: migrate badge-fonts
	@$(FLASK) setup-code
	@echo "Try it with demo attendees: $(FLASK) demo   (or: make demo)"
	@echo "Serving kithmeet at http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	@echo "Mail is sent by the mail worker beside it; without MAIL_SERVER it is written to instance/outbox/"
	@# The mail worker runs beside gunicorn and stops with it (Ctrl-C, or gunicorn exiting).
	$(FLASK) mail-worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --worker-class gthread --workers 2 --threads 8 \
		--access-logfile - --logger-class kithmeet.serving.AccessLogger app:app

## The fonts printed badges are set in: the app renders badge PDFs while it runs.
BADGE_FONT_PACKAGES := fonts-dejavu-core fonts-noto-core fonts-symbola
HAS_BADGE_FONTS := test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf \
	-a -f /usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf -a -f /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf
badge-fonts:
	@if ! $(HAS_BADGE_FONTS); then \
		echo "Installing the badge fonts ($(BADGE_FONT_PACKAGES)) from Debian"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(BADGE_FONT_PACKAGES); \
	fi

## DEMO_FORCE=1 adds the demo to a site that already has a real organizer.
demo: migrate
	$(FLASK) demo $(if $(DEMO_FORCE),--force)

## Browser tests drive Debian's Chromium; the scale-path tests start a throwaway PostgreSQL
## server and the shared rate-limit tests a throwaway Redis; tests/scale puts nginx in front
## (docs/deploy/nginx.conf) and the benchmark drives the pages with wrk; badge SVGs are rasterised with
## cairo. Install whichever is missing.
## Printed badges (PDF) are set in DejaVu, with Noto for other scripts and Symbola for emoji;
## their tests rasterise the PDFs with poppler's pdftoppm.
SYSTEM_TEST_PACKAGES := chromium libcairo2 postgresql redis-server nginx wrk poppler-utils $(BADGE_FONT_PACKAGES)
system-test-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! ldconfig -p | grep -q libcairo.so.2 \
		|| ! command -v pdftoppm >/dev/null 2>&1 || ! $(HAS_BADGE_FONTS) \
		|| ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1 \
		|| ! test -x /usr/sbin/nginx || ! command -v wrk >/dev/null 2>&1; then \
		echo "Installing $(SYSTEM_TEST_PACKAGES) from Debian"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SYSTEM_TEST_PACKAGES); \
	fi

## Every test on SQLite, then on PostgreSQL every test whose default database that changes
## (--database-tests-only: not those that use none, nor those already run on both).
## TEST_DATABASES=sqlite runs the first alone; the first named runs every test.
TEST_DATABASES ?= sqlite postgresql
test: install-dev system-test-deps
	@status=0; only=; for database in $(TEST_DATABASES); do \
		echo "== the tests on $$database"; \
		KITHMEET_TEST_DATABASE=$$database $(BIN)/python -m pytest $$only $(PYTEST_ARGS) \
			|| [ $$? = 5 ] || status=1; \
		only=--database-tests-only; \
	done; exit $$status

## benchmarks/load.py first: the hot pages under gunicorn and wrk on SQLite and PostgreSQL; it
## rewrites docs/performance.md.
benchmark: install-dev system-test-deps
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/pages.py
	$(BIN)/python benchmarks/badges.py
	$(BIN)/python benchmarks/guest_import.py
	$(BIN)/python benchmarks/live.py
	$(BIN)/python benchmarks/news.py
	$(BIN)/python benchmarks/scanner.py

## The README walkthrough's images (docs/images/): a seeded throwaway app photographed in Chromium.
screenshots: install-dev system-test-deps
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache
