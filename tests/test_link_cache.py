"""Templates' links built once and kept a moment (kithmeet/link_cache.py): the same paths as
Flask's url_for, built again after the static names' recheck interval, and Flask's own answer
for whatever the cache cannot key."""
import pytest
from flask import render_template_string, url_for
from werkzeug.routing import MapAdapter

from kithmeet import static_files

PAGE = ("{{ url_for('static', filename='css/app.css') }} {{ url_for('home.index') }} "
        "{{ url_for('connections.scan', token='ABCD2345') }}")


@pytest.fixture
def builds(monkeypatch):
    """Every path Werkzeug's URL map builds, by endpoint."""
    built = []
    real = MapAdapter.build
    monkeypatch.setattr(MapAdapter, "build", lambda self, endpoint, *a, **k: built.append(endpoint) or real(
        self, endpoint, *a, **k))
    return built


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(static_files, "NAME_RECHECK_SECONDS", 2.0)
    monkeypatch.setattr(static_files, "_clock", lambda: now[0])
    return now


def test_a_page_links_what_url_for_gives_and_builds_the_same_for_everyone_once(app, builds, clock):
    with app.test_request_context("/"):
        expected = " ".join([url_for("static", filename="css/app.css"), url_for("home.index"),
                             url_for("connections.scan", token="ABCD2345")])
        builds.clear()
        pages = [render_template_string(PAGE) for _ in range(3)]
    assert pages == [expected] * 3
    # The static file and the page without values on the first page only; a link with values each time.
    assert sorted(builds) == ["connections.scan"] * 3 + ["home.index", "static"]


def test_links_are_built_again_once_the_recheck_interval_passed(app, builds, clock, tmp_path):
    folder = tmp_path / "static"
    (folder / "js").mkdir(parents=True)
    app.static_folder = str(folder)
    script = folder / "js" / "tool.js"
    script.write_text("1;\n")
    page = "{{ url_for('static', filename='js/tool.js') }}"
    with app.test_request_context("/"):
        first = render_template_string(page)
        script.write_text("22;\n")  # a deploy changes the file in place
        clock[0] += 1.9
        assert render_template_string(page) == first  # within the interval: as it was
        clock[0] += 2.1  # past both the link's and the name's interval
        assert render_template_string(page) == url_for("static", filename="js/tool.js") != first


def test_each_script_root_keeps_its_own_links(app, clock):
    page = "{{ url_for('home.index') }}"
    with app.test_request_context("/"):
        assert render_template_string(page) == "/"
    with app.test_request_context("/", base_url="http://localhost/meet/"):
        assert render_template_string(page) == url_for("home.index") == "/meet/"


@pytest.mark.parametrize("endpoint, values", [
    ("home.index", {"_anchor": "join"}),
    ("home.index", {"_external": True}),
    ("followup.index", {"page": 2}),
    ("followup.index", {"q": "Ada"}),  # a search's words are never kept
    ("static", {"filename": "js/app.js", "v": "2"}),
    (".scan", {"token": "ABCD2345"}),  # relative to the page's blueprint
    (".review", {}),
])
def test_what_the_cache_cannot_key_is_flasks_url_for(app, builds, clock, endpoint, values):
    with app.test_request_context("/B/ABCD2345"):
        flasks = url_for(endpoint, **values)
        builds.clear()
        answers = [render_template_string("{{ url_for(endpoint, **values) }}", endpoint=endpoint, values=values)
                   for _ in range(2)]
    assert answers == [flasks, flasks]
    assert len(builds) == 2  # each built anew


def test_outside_a_request_links_are_flasks_own(app, clock):
    app.config["SERVER_NAME"] = "meet.example.org"
    with app.app_context():  # as a mail's template calls it: through the templates' url_for
        assert app.jinja_env.globals["url_for"]("home.index") == "http://meet.example.org/"


def test_no_link_is_kept_when_a_url_default_could_read_the_request(app, builds, clock):
    @app.url_defaults
    def language(endpoint, values):  # a default of the kind that would differ between requests
        pass

    with app.test_request_context("/"):
        pages = [render_template_string("{{ url_for('home.index') }}") for _ in range(2)]
    assert pages == ["/", "/"]
    assert builds == ["home.index", "home.index"]
