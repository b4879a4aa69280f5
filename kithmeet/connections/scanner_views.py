"""The in-page scanner, /scan: many badges in a row through the phone's camera, each connected
at once through the JSON API (static/js/scanner.js). Registered on connections' blueprint
(views.bp) by register_blueprints. The camera-app flow, /B/<token>, stays in views.py."""
import mimetypes

from flask import make_response, render_template

from ..auth import current_person, person_required
from ..events import services as events
from ..security import CSP
from ..urls import public_base
from .forms import CodeForm
from .views import bp

# The vendored QR reader (static/vendor/barcode-detector) compiles WebAssembly, which a
# script-src without 'wasm-unsafe-eval' forbids. Only this page gets it: no other page runs
# wasm, and it still allows no eval of JavaScript and no script from anywhere but us.
SCANNER_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
assert SCANNER_CSP != CSP, "the strict CSP no longer has the script-src this page widens"
# Browsers compile a .wasm while it downloads only when it comes as application/wasm; Python
# knows the type, but a system's mime.types may not.
mimetypes.add_type("application/wasm", ".wasm")


@bp.get("/scan")
@person_required
def scanner():
    person = current_person()
    response = make_response(render_template(
        "connections/scanner.html", event=events.open_event_or_none(person.id), code_form=CodeForm(),
        # The host badge QRs carry (badges/qr.py): scanner.js takes a code as one of ours only
        # when it points there or at the page's own host.
        badge_base=public_base()))
    response.headers["Content-Security-Policy"] = SCANNER_CSP
    return response
