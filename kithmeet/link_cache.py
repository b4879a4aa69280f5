"""Links in templates, each built once and kept a moment: every page draws a dozen that never
change from one request to the next (the stylesheet, the scripts, the menu's), and Werkzeug's
URL map built each anew, 3 to 6 µs apiece, about a thirtieth of the scan page.

Templates' `url_for` is `linked` below. It keeps the links that are the same for everyone: a
static file's (by its name) and an endpoint's without values, under the request's script root,
for static_files.NAME_RECHECK_SECONDS, as long as static_files keeps a file's hashed name (a
file changed in place is linked under its new name at most that much later than before: two
intervals in all, where it was one). Everything else is Flask's url_for as it is: a link with
other values (a search's words, a page's path, a person's id: nothing of anyone's is kept in
the process after their page), outside a request (a mail rendered by the worker, whose links
need the site's host), a blueprint-relative endpoint (".scan" depends on the page), and Flask's
own options (`_external`, `_anchor`, ...). A link whose building raises is not kept, and none is
kept in an app whose URL defaults could read the request (`_same_for_everyone`).
"""
from functools import cache

from flask import has_request_context
from flask.globals import request_ctx

from . import static_files

MAX_KEPT = 1024  # the app's endpoints and static files are far fewer: bounded all the same


def init_app(app):
    build = app.url_for
    kept = {}  # (endpoint, script root, static file name or None) -> (built at, path)
    same_for_everyone = cache(lambda: _same_for_everyone(app))  # asked at the first link, the app set up

    def linked(endpoint, **values):
        if ((values and (endpoint != "static" or len(values) != 1 or type(values.get("filename")) is not str))
                or endpoint.startswith(".")  # the page's blueprint decides
                or not has_request_context() or request_ctx.url_adapter is None  # no request; a host refused
                or not same_for_everyone()):
            return build(endpoint, **values)
        key = (endpoint, request_ctx.request.script_root, values.get("filename"))
        now = static_files._clock()  # static_files' clock: the tests move one clock for both
        found = kept.get(key)
        if found is not None and now - found[0] < static_files.NAME_RECHECK_SECONDS:
            return found[1]
        path = build(endpoint, **values)
        if len(kept) >= MAX_KEPT:
            kept.clear()
        kept[key] = (now, path)
        return path

    app.jinja_env.globals["url_for"] = linked


def _same_for_everyone(app):
    """Whether a link depends only on its endpoint and values: no URL defaults but static_files'
    (a file's hashed name) and no handler that builds links Flask cannot. A URL default added
    later that reads the request (a language, an event) would otherwise be kept for everyone."""
    defaults = [function for functions in app.url_default_functions.values() for function in functions]
    return not app.url_build_error_handlers and all(
        function.__module__ == static_files.__name__ and function.__name__ == "fingerprint_static_urls"
        for function in defaults)
