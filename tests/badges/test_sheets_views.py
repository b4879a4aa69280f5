"""The print page, the sheet and reprint PDFs, and an attendee's own printable badge."""
import io

import pdfplumber
import pytest

from kithmeet.events.models import SeriesMember
from kithmeet.extensions import db

from ..pages import error_codes, field_error
from .test_sheets import codes_in, pdf_text

PASSWORD = "a long enough password"


@pytest.fixture
def app_config():
    return {"PUBLIC_URL": "https://meet.example.org"}


def organizer_client(app, organizer):
    client = app.test_client()
    assert client.submit("/organizer/login", data={"email": organizer.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def night(app, make_organizer, make_event, make_person):
    organizer = make_organizer()
    event = make_event(organizer)
    ada = make_person("Ada Okafor", event=event)
    return organizer, event, ada


def test_the_event_page_leads_to_the_print_page_with_its_choices(app, night):
    organizer, event, _ada = night
    client = organizer_client(app, organizer)
    html = client.get(f"/organizer/events/{event.public_id}").get_data(as_text=True)
    assert f"/organizer/events/{event.public_id}/badges" in html
    page = client.get(f"/organizer/events/{event.public_id}/badges")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for value in ("avery-5392", "avery-l4785", "label-62x100", "checked_in", "guests"):
        assert f'value="{value}"' in html


def test_the_sheet_pdf_holds_everyone_checked_in(app, tmp_path, night):
    organizer, event, ada = night
    client = organizer_client(app, organizer)
    response = client.get(f"/organizer/events/{event.public_id}/badges.pdf?stock=avery-5392&who=checked_in")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]  # names of people: never cached
    with pdfplumber.open(io.BytesIO(response.data)) as document:
        assert round(document.pages[0].width) == 612  # US Letter
    assert codes_in(response.data, tmp_path) == {f"HTTPS://MEET.EXAMPLE.ORG/B/{ada.badge_token}"}


def test_nobody_to_print_and_an_unknown_stock_show_beside_their_fields(app, night):
    organizer, event, _ada = night
    client = organizer_client(app, organizer)
    response = client.get(f"/organizer/events/{event.public_id}/badges.pdf?stock=avery-l4785&who=guests")
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "who") == "no_badges"
    response = client.get(f"/organizer/events/{event.public_id}/badges.pdf?stock=avery-1&who=checked_in")
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "stock") == "invalid"


def test_a_door_volunteer_reprints_one_badge_but_prints_no_sheets(app, tmp_path, night, make_organizer):
    _organizer, event, ada = night
    door = make_organizer()
    db.session.add(SeriesMember(series_id=event.series_id, organizer_id=door.id, role="door"))
    db.session.commit()
    client = organizer_client(app, door)
    page = client.get(f"/organizer/events/{event.public_id}/badges").get_data(as_text=True)
    assert "reprint-form" in page and "sheet-form" not in page
    response = client.get(f"/organizer/events/{event.public_id}/badges.pdf")
    assert response.status_code == 403 and "role_too_low" in error_codes(response.get_data(as_text=True))
    response = client.get(f"/organizer/events/{event.public_id}/badges/reprint.pdf",
                          query_string={"code": ada.badge_token.lower(), "reprint_stock": "label-62x100"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert codes_in(response.data, tmp_path) == {f"HTTPS://MEET.EXAMPLE.ORG/B/{ada.badge_token}"}


def test_a_reprint_of_someone_not_here_is_refused_beside_the_code(app, night, make_person):
    organizer, event, _ada = night
    stranger = make_person("Not Here")
    client = organizer_client(app, organizer)
    url = f"/organizer/events/{event.public_id}/badges/reprint.pdf"
    response = client.get(url, query_string={"code": stranger.badge_token, "reprint_stock": "label-62x100"})
    assert response.status_code == 404 and field_error(response.get_data(as_text=True), "code") == "not_an_attendee"
    response = client.get(url, query_string={"code": "", "reprint_stock": "label-62x100"})
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "code") == "code_required"


def test_another_organizer_gets_nothing(app, night, make_organizer):
    _organizer, event, ada = night
    client = organizer_client(app, make_organizer())
    for path in ("badges", "badges.pdf", f"badges/reprint.pdf?code={ada.badge_token}"):
        assert client.get(f"/organizer/events/{event.public_id}/{path}").status_code == 404


def test_an_attendee_downloads_their_own_badge_as_a_printable_pdf(app, tmp_path, night, signed_in, make_person):
    _organizer, _event, ada = night
    make_person("Someone Else")  # a later person: the PDF is still Ada's own
    client = signed_in(ada)
    badge_page = client.get("/badge").get_data(as_text=True)
    assert "/badge/print.pdf?stock=avery-l4785" in badge_page and "/badge/print.pdf?stock=avery-5392" in badge_page
    for stock, width in (("avery-l4785", 595), ("avery-5392", 612), ("label-62x100", 595)):  # no label at home
        response = client.get(f"/badge/print.pdf?stock={stock}")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        with pdfplumber.open(io.BytesIO(response.data)) as document:
            assert len(document.pages) == 1 and round(document.pages[0].width) == width
    assert codes_in(response.data, tmp_path) == {f"HTTPS://MEET.EXAMPLE.ORG/B/{ada.badge_token}"}
    assert "Ada Okafor" in pdf_text(response.data, tmp_path)
    assert "Thursday Gathering" in pdf_text(response.data, tmp_path)  # the series of their last event
    # The QR images stay as they were.
    assert client.get(f"/badge/{ada.badge_token}.png").mimetype == "image/png"
    assert app.test_client().get("/badge/print.pdf").status_code in (302, 401)


@pytest.mark.parametrize("code", ["\x00", "é" * 41, "<script>", "K7QM 4XTR", "%ff", "\u202eABC"])
def test_odd_codes_typed_for_a_reprint_get_a_message_never_an_error_page(app, night, code):
    organizer, event, _ada = night
    client = organizer_client(app, organizer)
    response = client.get(f"/organizer/events/{event.public_id}/badges/reprint.pdf",
                          query_string={"code": code, "reprint_stock": "label-62x100"})
    assert response.status_code in (400, 404)
    assert field_error(response.get_data(as_text=True), "code") in (
        "not_an_attendee", "too_long", "control_characters", "invalid_utf8")
