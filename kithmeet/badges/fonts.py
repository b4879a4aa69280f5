"""The fonts printed badges are set in, and which one draws each character.

DejaVu is the main face; what it lacks comes from the first installed font that has it (Noto
for other scripts, Symbola for emoji, in black and white as a printer prints them). A
character no installed font has is left out, never printed as an empty box.
"""
import logging
import os
import threading
import unicodedata
from functools import lru_cache

from fontTools.ttLib import TTFont

from ..errors import DomainError

log = logging.getLogger(__name__)

# Debian's font packages (fonts-dejavu-core, fonts-noto-core, fonts-symbola), which `make run`
# and `make test` install.
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/noto",
             "/usr/share/fonts/truetype/ancient-scripts", "/usr/share/fonts/truetype/symbola")
MAIN_FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MONO_FONT = "DejaVuSansMono-Bold.ttf"
# Searched in this order for what DejaVu lacks: Noto for scripts, then symbols, then emoji.
FALLBACK_PREFIX = "NotoSans"
FALLBACK_LAST = ("NotoSansSymbols2-Regular.ttf", "Symbola_hint.ttf", "Symbola.ttf")
# Invisible joiners and selectors: dropping them when no font has them changes nothing printed.
_IGNORABLE = {"\u200d", "\u200c", "\ufe0e", "\ufe0f"}


class FontsMissing(DomainError):
    def __init__(self, name):
        super().__init__(f"The badge font {name} is not installed on this server. Whoever runs kithmeet "
                         "installs it with `make run` (fonts-dejavu-core).", "fonts_missing", status=503)


def font_dirs():
    return tuple(FONT_DIRS)


def _find(filename, dirs):
    for folder in dirs:
        path = os.path.join(folder, filename)
        if os.path.isfile(path):
            return path
    return None


_coverage_lock = threading.Lock()


@lru_cache(maxsize=4)
def fonts(dirs):
    """(main fonts, mono font, [(fallback path, its characters)]), read once per process."""
    with _coverage_lock:
        main = {style: _find(name, dirs) for style, name in MAIN_FONTS.items()}
        mono = _find(MONO_FONT, dirs)
        for name, path in [*((MAIN_FONTS[s], p) for s, p in main.items()), (MONO_FONT, mono)]:
            if path is None:
                raise FontsMissing(name)
        names = []
        for folder in dirs:
            if os.path.isdir(folder):
                names += sorted(n for n in os.listdir(folder)
                                if n.startswith(FALLBACK_PREFIX) and n.endswith("-Bold.ttf")
                                and "Mono" not in n and "Display" not in n and n != "NotoSans-Bold.ttf")
        names += FALLBACK_LAST
        fallbacks, seen = [], set()
        for name in names:
            path = _find(name, dirs)
            if path and name not in seen:
                seen.add(name)
                fallbacks.append((path, frozenset(_cmap(path))))
        return main, frozenset(_cmap(main["B"])) | frozenset(_cmap(main[""])), mono, fallbacks


def _cmap(path):
    font = TTFont(path, lazy=True)
    try:
        return font.getBestCmap().keys()
    finally:
        font.close()


def plan_fonts(texts, fonts):
    """Which fallback fonts these texts need, and the texts with what no font has left out."""
    _main, covered, _mono, fallbacks = fonts
    needed, dropped, out = [], 0, []
    for text in texts:
        kept = []
        for char in text:
            point = ord(char)
            if point in covered or char in (" ",):
                kept.append(char)
                continue
            holder = next((path for path, chars in fallbacks if point in chars), None)
            if holder is None:
                if char not in _IGNORABLE and unicodedata.category(char) not in ("Mn", "Cf"):
                    dropped += 1
                continue
            if holder not in needed:
                needed.append(holder)
            kept.append(char)
        out.append("".join(kept))
    if dropped:
        # Counts only: badge text is personal.
        log.warning("badge sheets: %d character(s) no installed font has were left out", dropped)
    return needed, out
