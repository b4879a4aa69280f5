"""Links in templates, each built once and kept a moment: every page draws a dozen that never
change from one request to the next (the stylesheet, the scripts, the menu's), and Werkzeug's
URL map built each anew, 4 to 6 µs apiece, about a twentieth of the scan page.

Templates' `url_for` is `linked` below. It keeps a path under the endpoint, its values and the
request's script root for static_files.NAME_RECHECK_SECONDS, as long as static_files keeps a
file's hashed name: a file changed in place is linked under its new name at most that much
later than before (two intervals in all, where it was one). Anything
it cannot key safely goes to Flask's url_for as it is: outside a request (a mail rendered by the
worker, whose links need the site's host), a blueprint-relative endpoint (".scan" depends on the
page), Flask's own options (`_external`, `_anchor`, ...), values that are not strings, and a
link whose building raises.
"""
from flask import has_request_context, request

from . import static_files

MAX_KEPT = 2048  # links with people's ids in them are many: bounded, started afresh when full


def init_app(app):
    build = app.url_for
    kept = {}  # (endpoint, script root, values) -> (built at, path)

    def linked(endpoint, **values):
        if endpoint[0] == "." or not has_request_context() or not all(
                type(value) is str and name[0] != "_" for name, value in values.items()):
            return build(endpoint, **values)
        key = (endpoint, request.script_root, *values.items())
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
