"""The QR codes kithmeet prints: badge codes and join-poster codes.

A badge QR carries only `HTTPS://HOST/B/TOKEN`, upper-cased so the whole URL fits QR
alphanumeric mode: version 2 at level M for a host of up to 16 characters.

A code never changes for its URL, and choosing its mask is most of the work of making one
(about 3 ms, and 0.5 ms to draw it as SVG, 2.5 ms as PNG). So each badge and join code is
worked out once per process (`code`, which printed sheets use too) and each image of it drawn
once (`image`), in LRU caches of a fixed size: made-up codes can only push others out, never
grow the memory. Codes that carry a secret (the kiosk's hand-off link) go through `make` and
`svg`, and are never kept.
"""
import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import segno
from ..urls import public_base

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
# Entries kept per process: codes (about 2.7 KB each in memory) and drawn images (an SVG about
# 1.7 KB, a PNG 0.8 KB), so both caches full hold about 20 MB. Images: enough for the SVG and
# the PNG of every badge of a big series (5,000 people, the benchmark's site), since a rotation
# through more codes than an LRU holds would miss every time.
CODES = 4096
IMAGES = 8192


# The /B/ and /J/ paths are spelled out, not built from the URL map: they are printed on
# badges and posters, so they must not move when a route does. `base` overrides
# public_base(), which needs PUBLIC_URL outside a request.
def badge_url(token, base=None):
    return f"{base or public_base()}/B/{token}".upper()


def join_url(code, base=None):
    return f"{base or public_base()}/J/{code}".upper()


def make(url):
    # make_qr, never make: plain make may choose Micro QR, which phone cameras can't read.
    return segno.make_qr(url, error="m", boost_error=True)


def svg(url, title=None):
    return _svg(make(url), title)


def png(url, scale=10):
    return _png(make(url), scale)


def _svg(qrcode, title):
    buffer = io.BytesIO()
    qrcode.save(buffer, kind="svg", scale=10, border=QUIET_ZONE, dark="#000", light="#fff",
                xmldecl=False, title=title, unit=None)
    return buffer.getvalue()


def _png(qrcode, scale):
    buffer = io.BytesIO()
    qrcode.save(buffer, kind="png", scale=scale, border=QUIET_ZONE, dark="#000", light="#fff")
    return buffer.getvalue()


@lru_cache(maxsize=CODES)
def code(url):
    """`make(url)`, worked out once per process: for badge and join codes, which carry no secret."""
    return make(url)


@dataclass(frozen=True)
class Image:
    body: bytes
    mimetype: str
    etag: str  # of the bytes: the same in every process, so a cache can revalidate with any worker


# image's LRU, least recently used first. Not functools.lru_cache: badges/views.py must know
# whether an image is drawn already before asking for it (a stranger's misses are counted).
_images = OrderedDict()
_images_lock = threading.Lock()


def drawn(url, kind, scale=10, title=None):
    """Whether `image` would answer this from what it keeps, without drawing anything."""
    with _images_lock:
        return (url, kind, scale, title) in _images


def image(url, kind, scale=10, title=None):
    """The `kind` ("svg" or "png") image of `url`'s code, drawn once per process."""
    key = (url, kind, scale, title)
    with _images_lock:
        kept = _images.get(key)
        if kept is not None:
            _images.move_to_end(key)
            return kept
    # Drawn outside the lock (milliseconds): two threads may both draw one image, alike.
    if kind == "svg":
        body, mimetype = _svg(code(url), title), "image/svg+xml"
    else:
        body, mimetype = _png(code(url), scale), "image/png"
    drawn_now = Image(body, mimetype, hashlib.sha256(body).hexdigest()[:32])
    with _images_lock:
        _images[key] = drawn_now
        while len(_images) > IMAGES:
            _images.popitem(last=False)
    return drawn_now


def forget_images():
    """Empty image's LRU, and the answers kept of them (badges/answers.py): tests start each with
    nothing drawn."""
    with _images_lock:
        _images.clear()
    from . import answers  # not at the top: it imports the views, which import this module

    answers.forget()
