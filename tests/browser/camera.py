"""A fake camera for Chromium: still pictures as a .y4m file, which
`--use-file-for-fake-video-capture` plays as the camera (on a loop).

Made in pure Python with Pillow, no ffmpeg: a YUV4MPEG2 header, then a few FRAME records,
each a picture's full-range Y plane and its Cb and Cr planes at half size (C420jpeg).
"""
import io

import segno
from PIL import Image

from kithmeet.badges import qr

WIDTH, HEIGHT = 640, 480
QR_SIZE = 300  # px: about what a badge fills of a phone camera's view held at arm's length
FRAMES = 3
FPS = 10


def badge_picture(base_url, token):
    """Our own badge QR (badges/qr.py, as printed: HTTP://HOST:PORT/B/TOKEN in capitals),
    centred on a white canvas."""
    return qr_picture(qr.png(qr.badge_url(token, base=base_url)))


def foreign_picture(text):
    """A QR that is not one of our badges, drawn the same way."""
    buffer = io.BytesIO()
    segno.make_qr(text).save(buffer, kind="png", scale=10, border=4, dark="#000", light="#fff")
    return qr_picture(buffer.getvalue())


def qr_picture(png):
    code = Image.open(io.BytesIO(png)).convert("L")
    code = code.resize((QR_SIZE, QR_SIZE), Image.NEAREST)
    canvas = Image.new("L", (WIDTH, HEIGHT), 255)
    canvas.paste(code, ((WIDTH - QR_SIZE) // 2, (HEIGHT - QR_SIZE) // 2))
    return canvas.convert("RGB")


def y4m(*pictures, frames=FRAMES):
    """The pictures, each for `frames` frames, as YUV4MPEG2 bytes: 4:2:0 in JPEG's full range
    (what Pillow's YCbCr is). Chromium plays them at FPS frames a second, on a loop."""
    width, height = pictures[0].size
    assert width % 2 == 0 and height % 2 == 0, "4:2:0 needs even sides"
    header = f"YUV4MPEG2 W{width} H{height} F{FPS}:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".encode()
    return header + b"".join(_frame(picture, (width, height)) * frames for picture in pictures)


def _frame(picture, size):
    assert picture.size == size, "every picture of one video has the same size"
    y, cb, cr = picture.convert("YCbCr").split()
    half = (size[0] // 2, size[1] // 2)
    return b"FRAME\n" + y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()


def write_y4m(path, *pictures, frames=FRAMES):
    path.write_bytes(y4m(*pictures, frames=frames))
    return path
