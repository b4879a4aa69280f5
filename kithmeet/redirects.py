"""Where a `next` parameter may send someone after a form: only a path of this site,
under the prefix the caller allows. Never another site (`//evil.example`, `https:`,
a backslash some browsers read as a slash) and never a header-breaking character."""
from urllib.parse import urlsplit


def safe_next(target, *, within, default):
    target = target or ""
    parts = urlsplit(target)
    if (target.startswith(within) and not parts.scheme and not parts.netloc and "\\" not in target
            and all(ch.isprintable() and not ch.isspace() for ch in target)):
        return target
    return default
