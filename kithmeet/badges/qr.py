"""The QR codes kithmeet prints: badge codes and join-poster codes.

A badge QR carries only `HTTPS://HOST/B/TOKEN`, upper-cased so the whole URL fits QR
alphanumeric mode: version 2 at level M for a host of up to 16 characters.
"""
import io

import segno
from ..urls import public_base

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


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
    buffer = io.BytesIO()
    make(url).save(buffer, kind="svg", scale=10, border=QUIET_ZONE, dark="#000", light="#fff",
                   xmldecl=False, title=title, unit=None)
    return buffer.getvalue()


def png(url, scale=10):
    buffer = io.BytesIO()
    make(url).save(buffer, kind="png", scale=scale, border=QUIET_ZONE, dark="#000", light="#fff")
    return buffer.getvalue()
