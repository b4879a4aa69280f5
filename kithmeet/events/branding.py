"""An event's branding: its accent colour and its logo.

The accent colour is a background: the join page, the badge and the poster put it behind their
main buttons and band, with white or near-black text (whichever reads better, `text_on`), so a
colour is refused when neither reaches WCAG AA (4.5:1). It never colours text on white, where a
light accent would vanish. Pages get it from a tiny stylesheet per colour
(badges/brand_views.py), never from an inline style: the CSP allows none.

A logo is sniffed from its bytes, never its name, checked for size before Pillow decodes a
pixel, and re-encoded as a fresh PNG: EXIF (GPS positions from a phone photo), ICC profiles and
text chunks are gone, and what is served is only what Pillow itself wrote.
"""
import io
import re
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from ..audit import services as audit
from ..database import transaction
from ..errors import DomainError
from ..extensions import db
from . import access
from .models import Event, EventLogo

COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")
WHITE, INK = "#ffffff", "#1c2430"  # INK is app.css's --ink, the site's near-black text
AA_NORMAL_TEXT = 4.5

MAX_LOGO_BYTES = 2 * 1024 * 1024
# A logo has no business being larger than a photo: refused before decoding, so a small file that
# inflates to gigabytes of pixels (a decompression bomb) never reaches memory.
MAX_LOGO_PIXELS = 25_000_000
LOGO_LONG_SIDE = 600

# Magic numbers: what the bytes say they are, whatever the file is called.
ACCEPTED = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}
REFUSED = (b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"\x00\x00\x01\x00", b"8BPS")


def _channel(value):
    value /= 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(color):
    """WCAG 2.x relative luminance of "#rrggbb"."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first, second):
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_on(accent):
    """The text colour the pages put on `accent`: white or the site's near-black, whichever
    contrasts more."""
    return WHITE if contrast_ratio(accent, WHITE) >= contrast_ratio(accent, INK) else INK


def checked_color(value):
    """"" (no accent) or a lower-case "#rrggbb" that text can be read on. Raises DomainError
    bad_color, low_contrast."""
    value = (value or "").strip()
    if not value:
        return ""
    match = COLOR.match(value)
    if match is None:
        raise DomainError("Use a colour like #0d6b63: a # and six hexadecimal digits.", "bad_color")
    color = "#" + match.group(1).lower()
    if contrast_ratio(color, text_on(color)) < AA_NORMAL_TEXT:
        raise DomainError("Text on this colour would be hard to read, whether white or black: pick a darker "
                          "or a lighter one.", "low_contrast")
    return color


def _sniff(data):
    for magic, kind in ACCEPTED.items():
        if data.startswith(magic):
            return kind
    head = data[:512].lstrip().lower()
    if (data.startswith(REFUSED) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
            or data[4:12] in (b"ftypheic", b"ftypavif", b"ftypmif1") or head.startswith(b"<?xml")
            or b"<svg" in head):
        raise DomainError("Use a PNG or JPEG file: other image types (SVG, GIF, WebP…) aren't taken.",
                          "bad_image_type")
    raise DomainError("That file isn't an image. Use a PNG or JPEG file.", "not_an_image")


def clean_logo(data):
    """The upload re-encoded: (PNG bytes, width, height), at most LOGO_LONG_SIDE px on its long
    side, transparency kept, no metadata. Raises DomainError logo_too_large, not_an_image,
    bad_image_type."""
    if not data:
        raise DomainError("That file is empty. Use a PNG or JPEG file.", "not_an_image")
    if len(data) > MAX_LOGO_BYTES:
        raise DomainError("Use a logo of 2 MB or less.", "logo_too_large")
    kind = _sniff(data)
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns first; here any warning refuses the file.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                width, height = image.size  # read from the header: nothing decoded yet
                if width * height > MAX_LOGO_PIXELS:
                    raise DomainError(f"That image is {width}×{height} pixels: use one under "
                                      f"{MAX_LOGO_PIXELS // 1_000_000} million pixels.", "logo_too_large")
                image.load()
                image = ImageOps.exif_transpose(image)  # a phone photo the right way up, before EXIF goes
                has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                image = image.convert("RGBA" if has_alpha else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DomainError("That image has too many pixels for a logo.", "logo_too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DomainError("That image could not be read: the file may be damaged. Save it again as PNG "
                          "or JPEG.", "not_an_image") from None
    image.thumbnail((LOGO_LONG_SIDE, LOGO_LONG_SIDE), Image.Resampling.LANCZOS)
    # Pixels only: a new image carries no info dict, so nothing the upload said is written back.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue(), clean.width, clean.height


def update_branding(organizer, public_id, *, accent_color="", logo=None, remove_logo=False):
    """Set an event's accent colour ("" for the default) and, when given, a new logo (the
    uploaded bytes) or none. The logo row is shared: the next event in a series points at the
    same one, so removing it from one event leaves the others'. Raises NotFound unknown_event,
    or DomainError role_too_low, bad_color, low_contrast, logo_too_large, not_an_image,
    bad_image_type."""
    event = access.event_for(organizer, public_id, "organizer")
    color = checked_color(accent_color)
    cleaned = clean_logo(logo) if logo is not None and not remove_logo else None
    with transaction():
        event.accent_color = color
        old = event.logo
        if cleaned is not None:
            png, width, height = cleaned
            event.logo = EventLogo(series_id=event.series_id, data=png, width=width, height=height)
        elif remove_logo:
            event.logo = None
        if old is not None and event.logo is not old:
            db.session.flush()
            if db.session.scalar(db.select(Event.id).where(Event.logo_id == old.id).limit(1)) is None:
                db.session.delete(old)  # no other event shows it
        audit.record(organizer.id, "event.branding_changed", event_id=event.id)
    return event


def logo_by_public_id(public_id):
    """The stored logo, or None."""
    return db.session.scalar(db.select(EventLogo).where(EventLogo.public_id == public_id))
