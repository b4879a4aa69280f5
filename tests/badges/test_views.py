"""Badge and join QR images (kithmeet/badges/views.py): a pure function of the code and the
site's address. No SQL statement, no session; drawn once per process, and only drawing one counts
against the address's lookup limit; a strong ETag and a year of caching. What the codes decode to at each size: tests/badges/test_qr.py."""
import hashlib

import pytest
import segno

from kithmeet.badges import qr, sheets, stock
from kithmeet.tokens import new_code

from .test_qr import decode, png_image, svg_image

IMMUTABLE = "public, max-age=31536000, immutable"
LOOKUPS = 5  # per minute and address: images drawn for one client


@pytest.fixture
def app_config():
    # Rate limits on, counted in the app's own database: a counted image would run statements.
    return {"PUBLIC_URL": "https://meet.example.org", "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "kithmeet+db://", "RATELIMIT_LOOKUP": f"{LOOKUPS} per minute"}


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with nothing drawn: the caches live as long as the process."""
    qr.forget_images()
    qr.code.cache_clear()
    yield
    qr.forget_images()
    qr.code.cache_clear()


def image_paths(token, join_code):
    return [f"/badge/{token}.svg", f"/badge/{token}.png", f"/badge/{token}.png?scale=4", f"/J/{join_code}.svg"]


def from_address(number):
    return {"environ_base": {"REMOTE_ADDR": f"203.0.113.{number}"}}


def test_an_image_runs_no_sql_statement_even_for_a_signed_in_person(make_event, make_person, signed_in,
                                                                     count_queries):
    event = make_event()
    ada, bo = make_person("Ada", event=event), make_person("Bo", event=event)
    client = signed_in(ada)  # a session cookie that would be read, and a person the limits would count
    client.get("/badge")
    paths = image_paths(bo.badge_token, event.join_code) * 3
    for number, path in enumerate(set(paths)):  # drawn for someone else first: this process keeps them
        assert client.get(path, **from_address(number)).status_code == 200
    with count_queries() as statements:
        responses = [client.open(path, method=method) for path in paths for method in ("GET", "HEAD")]
    assert statements == []
    # Over the lookup limit many times: images already drawn are not counted.
    assert [response.status_code for response in responses] == [200] * len(responses)
    for response in responses:
        assert response.headers["Cache-Control"] == IMMUTABLE  # public: no no-store for the signed in
        assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
        assert "Content-Security-Policy" in response.headers


def test_a_made_up_well_formed_code_gets_the_qr_of_its_link(client):
    token, join_code = new_code(), new_code(10)  # no such person, no such event
    svg, png = client.get(f"/badge/{token}.svg"), client.get(f"/badge/{token}.png")
    assert (svg.status_code, svg.mimetype, png.status_code, png.mimetype) == (200, "image/svg+xml", 200, "image/png")
    expected = f"HTTPS://MEET.EXAMPLE.ORG/B/{token}"
    assert decode(svg_image(svg.data)).text == decode(png_image(png.data)).text == expected
    joining = client.get(f"/J/{join_code}.svg")
    assert joining.status_code == 200
    assert decode(svg_image(joining.data)).text == f"HTTPS://MEET.EXAMPLE.ORG/J/{join_code}"
    # Typed as a person may type it: the same code, the same image.
    spaced = client.get(f"/badge/{token[:4].lower()}-{token[4:8]}-{token[8:]}.svg")
    assert spaced.status_code == 200 and spaced.data == svg.data


@pytest.mark.parametrize("path", ["/badge/AAAA.svg", "/badge/AAAAAAAAAAAA.png", "/badge/0OIL0OIL0OI.svg",
                                  "/badge/K7QM4XTR9P%21.svg", "/badge/AAAA.png?scale=1000",
                                  "/J/ABC.svg", "/J/0OIL0OIL0O.svg"])
def test_a_malformed_code_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "Cache-Control" not in response.headers


@pytest.mark.parametrize("scale,status", [("1", 400), ("3", 400), ("40", 400), ("41", 400), ("2", 200), ("4", 200),
                                          ("20", 200), ("big", 200)])
def test_only_the_offered_png_scales_are_drawn(client, scale, status):
    response = client.get(f"/badge/{new_code()}.png?scale={scale}")
    assert response.status_code == status
    if status == 200:
        expected = (int(scale) if scale.isdigit() else 10) * (25 + 2 * qr.QUIET_ZONE)
        assert png_image(response.data).size == (expected, expected)


def test_an_image_has_a_strong_etag_of_its_bytes_and_answers_304(client):
    token = new_code()
    first = client.get(f"/badge/{token}.svg")
    etag, weak = first.get_etag()
    assert not weak and etag == hashlib.sha256(first.data).hexdigest()[:32]
    assert first.headers["Cache-Control"] == IMMUTABLE
    for held in (f'"{etag}"', f'W/"{etag}"', f'"other", "{etag}"', "*"):
        again = client.get(f"/badge/{token}.svg", headers={"If-None-Match": held})
        assert again.status_code == 304 and again.data == b"", held
        assert again.headers["ETag"] == f'"{etag}"' and again.headers["Cache-Control"] == IMMUTABLE
    assert client.get(f"/badge/{token}.svg", headers={"If-None-Match": '"other"'}).status_code == 200
    # Another size is another image, with its own ETag.
    assert client.get(f"/badge/{token}.png?scale=4").get_etag()[0] != client.get(f"/badge/{token}.png").get_etag()[0]
    # The same in every process (a cache may revalidate with any worker): of the bytes alone.
    qr.forget_images()
    qr.code.cache_clear()
    assert client.get(f"/badge/{token}.svg").headers["ETag"] == f'"{etag}"'


def test_a_code_is_worked_out_once_and_each_image_drawn_once(client, monkeypatch):
    made, drawn = [], []
    real = segno.make_qr
    monkeypatch.setattr(segno, "make_qr", lambda *args, **kwargs: made.append(args[0]) or real(*args, **kwargs))
    for name in ("_svg", "_png"):
        monkeypatch.setattr(qr, name, lambda *args, real=getattr(qr, name), name=name: drawn.append(name) or real(*args))
    token = new_code()
    bodies = {path: {client.get(path).data for _ in range(3)} for path in
              (f"/badge/{token}.svg", f"/badge/{token}.png", f"/badge/{token}.png?scale=4")}
    assert all(len(seen) == 1 for seen in bodies.values())
    assert made == [f"HTTPS://MEET.EXAMPLE.ORG/B/{token}"]  # one mask choice for all three images
    assert sorted(drawn) == ["_png", "_png", "_svg"]
    assert qr.code.cache_info().maxsize == qr.CODES  # bounded


def test_the_images_kept_are_bounded_least_recently_used_first(monkeypatch):
    monkeypatch.setattr(qr, "IMAGES", 2)
    first, second, third = (qr.badge_url(new_code(), "https://meet.example.org") for _ in range(3))
    qr.image(first, "svg"), qr.image(second, "svg"), qr.image(first, "svg")  # first used last
    qr.image(third, "svg")
    assert [qr.drawn(url, "svg") for url in (first, second, third)] == [True, False, True]
    assert len(qr._images) == 2


def test_images_drawn_for_a_client_count_against_its_lookups_and_kept_ones_do_not(client, make_person, signed_in):
    kept = f"/badge/{new_code()}.svg"
    assert client.get(kept, **from_address(1)).status_code == 200  # drawn for another client
    ada = signed_in(make_person("Ada"))  # counted by address all the same: no session is read
    made_up = [f"/badge/{new_code()}.{kind}" for kind in ("svg", "png") for _ in range(LOOKUPS)]
    statuses = [ada.get(path, **from_address(2)).status_code for path in made_up]
    assert statuses == [200] * LOOKUPS + [429] * LOOKUPS
    refused = ada.get(f"/J/{new_code(10)}.svg", **from_address(2))
    assert refused.status_code == 429 and refused.headers.get("Cache-Control") != IMMUTABLE
    # What is kept still answers that address, as many times as it asks; and other addresses draw.
    assert [ada.get(kept, **from_address(2)).status_code for _ in range(LOOKUPS * 2)] == [200] * LOOKUPS * 2
    assert ada.get(made_up[-1], **from_address(3)).status_code == 200


def test_the_address_is_part_of_what_is_kept(app):
    """Without PUBLIC_URL the link is the request's host: each host gets its own image."""
    app.config["PUBLIC_URL"] = ""
    token = new_code()
    texts = {decode(png_image(app.test_client().get(f"/badge/{token}.png", base_url=base).data)).text
             for base in ("http://127.0.0.1:5000", "http://localhost:5000")}
    assert texts == {f"HTTP://127.0.0.1:5000/B/{token}", f"HTTP://LOCALHOST:5000/B/{token}"}


def test_a_printed_sheet_reuses_the_codes_the_images_worked_out(client, monkeypatch):
    tokens = [new_code() for _ in range(3)]
    for token in tokens:
        assert client.get(f"/badge/{token}.svg").status_code == 200
    made = []
    real = segno.make_qr
    monkeypatch.setattr(segno, "make_qr", lambda *args, **kwargs: made.append(args[0]) or real(*args, **kwargs))
    badges = [sheets.Badge(name="Ada", pronouns="", prompt="", answer="", code=token,
                           url=qr.badge_url(token, "https://meet.example.org")) for token in tokens]
    assert sheets.render(stock.AVERY_L4785, badges, sheets.Brand("Thursday Gathering")).startswith(b"%PDF")
    assert made == []
