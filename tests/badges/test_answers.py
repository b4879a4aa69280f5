"""Badge and join images answered again without Flask (kithmeet/badges/answers.py): the same
bytes and headers as Flask's first answer, for plain GETs of a URL Flask answered with a 200."""
import pytest
from flask import request_started

from kithmeet import create_app
from kithmeet.badges import answers, qr
from kithmeet.tokens import new_code

from .test_qr import decode, svg_image


def link(response):
    return decode(svg_image(response.data)).text


@pytest.fixture(autouse=True)
def fresh_caches():
    qr.forget_images()
    yield
    qr.forget_images()


@pytest.fixture
def reached_flask(app):
    """Paths of the requests that reached Flask (a request context was made for them)."""
    paths = []

    def seen(sender, **extra):
        from flask import request
        paths.append(request.full_path.rstrip("?"))

    request_started.connect(seen, app)
    yield paths
    request_started.disconnect(seen, app)


def _same(first, again):
    assert again.status_code == first.status_code == 200
    assert again.data == first.data
    assert sorted(again.headers.items()) == sorted(first.headers.items())


def test_a_second_plain_get_is_answered_as_flask_answered_the_first_without_reaching_it(client, reached_flask,
                                                                                         make_event):
    token, join_code = new_code(), make_event().join_code
    for path in (f"/badge/{token}.svg", f"/badge/{token}.png", f"/badge/{token}.png?scale=4", f"/J/{join_code}.svg"):
        first = client.get(path)
        assert reached_flask == [path]
        _same(first, client.get(path))
        _same(first, client.get(path, headers={"Cookie": "session=whatever"}))
        assert reached_flask == [path]  # the second and third never reached Flask
        assert "Content-Security-Policy" in first.headers and first.headers["ETag"]
        reached_flask.clear()


def test_what_flask_refuses_or_answers_conditionally_is_never_kept(client, reached_flask):
    token = new_code()
    paths = ["/badge/not-a-code!.svg", f"/badge/{token}.png?scale=3"]  # 404, 400
    for path in paths * 2:
        assert client.get(path).status_code in (400, 404)
    assert len(reached_flask) == 4
    reached_flask.clear()
    etag = client.get(f"/badge/{token}.svg").headers["ETag"]
    revalidated = client.get(f"/badge/{token}.svg", headers={"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.headers["ETag"] == etag  # Flask's 304
    head = client.head(f"/badge/{token}.svg")
    assert head.status_code == 200 and head.data == b""
    assert len(reached_flask) == 3


def test_an_image_asked_with_any_query_but_a_pngs_scale_is_not_kept(client, reached_flask):
    # The views read no other query: keeping `?n=1`, `?n=2`... would push the real badges out.
    token = new_code()
    for path in (f"/badge/{token}.svg?n=1", f"/badge/{token}.png?scale=4&n=1") * 2:
        assert client.get(path).status_code == 200
    assert len(reached_flask) == 4


def test_an_answer_that_sets_a_cookie_is_not_kept(app, client, reached_flask):
    token = new_code()

    @app.after_request
    def set_a_cookie(response):
        response.set_cookie("marker", "1")
        return response

    for _ in range(2):
        assert client.get(f"/badge/{token}.svg").headers.get("Set-Cookie")
    assert len(reached_flask) == 2


def test_other_pages_always_reach_flask(client, reached_flask):
    for _ in range(2):
        client.get("/")
    assert len(reached_flask) == 2


def test_each_host_and_scheme_has_its_own_answer(tmp_path):
    # The code carries the address the app was reached at: one host's image is never another's.
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite3'}", "SECRET_KEY": "k",
                      "TESTING": True, "TRUSTED_PROXIES": ["10.0.0.2"],
                      "TRUSTED_HOSTS": ["a.example", "b.example", "c.example"]}, instance_path=str(tmp_path / "instance"))
    client, token = app.test_client(), new_code()
    path = f"/badge/{token}.svg"
    for _ in range(2):  # the second of each from what was kept
        assert link(client.get(path, headers={"Host": "a.example"})) == f"HTTP://A.EXAMPLE/B/{token}"
        assert link(client.get(path, headers={"Host": "b.example"})) == f"HTTP://B.EXAMPLE/B/{token}"
        # Through the trusted proxy the app sees https and the forwarded host; from anyone else
        # the same headers change nothing, and the proxy's answer is not theirs.
        forwarded = {"Host": "a.example", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "c.example"}
        via_proxy = client.get(path, headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.2"})
        assert link(via_proxy) == f"HTTPS://C.EXAMPLE/B/{token}"
        direct = client.get(path, headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.3"})
        assert link(direct) == f"HTTP://A.EXAMPLE/B/{token}"


def test_the_answers_kept_are_bounded_least_recently_used_first(app, reached_flask):
    layer = app.wsgi_app  # no TrustedProxies: the layer is outermost
    assert isinstance(layer, answers.KeptImages) and layer.size == qr.IMAGES
    layer.size = 2
    client = app.test_client()
    first, second, third = (f"/badge/{new_code()}.svg" for _ in range(3))
    for path in (first, second, first, third):  # the third pushes out the least recently used: second
        client.get(path)
    assert len(layer.kept) == 2
    reached_flask.clear()
    client.get(first)
    client.get(third)
    assert reached_flask == []
    client.get(second)
    assert reached_flask == [second]
