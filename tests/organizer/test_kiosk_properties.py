"""The kiosk's forms, driven with arbitrary text (hypothesis) from a browser in kiosk mode:
never a 500, and nothing typed reaches a page as markup. They exist only in kiosk mode, so
tests/test_properties.py lists them as driven here."""
import pytest
from hypothesis import given

from ..pages import error_codes
from ..test_properties import SETTINGS, TAG, assert_safe, values_for
from .test_kiosk import event, kiosk_client  # noqa: F401  (fixtures)

FORMS = {
    "/kiosk/registered": ["name"],
    "/kiosk/check-in": ["person"],
    "/kiosk/new": ["name", "answer", "email", "nonce"],
    "/kiosk/leave": ["password"],
}


@pytest.mark.parametrize("path", FORMS)
def test_kiosk_forms_take_any_text(kiosk_client, path):  # noqa: F811
    page = "/kiosk/new" if path == "/kiosk/new" else "/kiosk/registered" if path != "/kiosk/leave" else path

    @SETTINGS
    @given(data=values_for(FORMS[path]))
    def drive(data):
        token = kiosk_client.csrf_token(page)
        response = kiosk_client.post(path, data={"csrf_token": token, **data})
        assert_safe(response, kiosk_client.get("/kiosk").get_data(as_text=True))
        assert TAG not in kiosk_client.get(page).get_data(as_text=True)

    drive()


@pytest.mark.parametrize("person", ["\u00b2", "\u0663", "\uff11"])
def test_picking_a_person_by_a_non_ascii_digit_is_unknown_not_a_500(kiosk_client, person):  # noqa: F811
    token = kiosk_client.csrf_token("/kiosk/registered")
    response = kiosk_client.post("/kiosk/check-in", data={"csrf_token": token, "person": person})
    assert response.status_code < 500 and "unknown_person" in error_codes(response.get_data(as_text=True))
