"""The import pages as an organizer uses them, and "Is this you?" on an unclaimed badge."""
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from kithmeet.extensions import db
from kithmeet.guests.models import GuestImport
from kithmeet.mail.models import OutgoingMail
from kithmeet.people.models import Person

from ..pages import error_codes, field_error

DATA = Path(__file__).parent.parent / "data"
PASSWORD = "a long enough password"


@pytest.fixture
def organizer_client(app, make_organizer, make_event):
    organizer = make_organizer("org@example.org", PASSWORD)
    event = make_event(organizer)
    client = app.test_client()
    assert client.submit("/organizer/login", data={"email": "org@example.org", "password": PASSWORD}).status_code == 302
    return client, event


def upload(client, event, data, name="list.csv"):
    url = f"/organizer/series/{event.series.public_id}/guests/import"
    return client.submit(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_upload_map_import_report(organizer_client):
    client, event = organizer_client
    response = upload(client, event, (DATA / "pretix_orders.csv").read_bytes(), "pretix.csv")
    assert response.status_code == 302
    mapping_url = response.headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    assert 'data-platform="pretix"' in page and "Lena Fischer" in page and "lena@example.org" in page
    # Change the mapping: the company column as nothing; the preview follows.
    fields = {"email": "12", "name": "", "first_name": "10", "last_name": "11", "job_title": "", "company": ""}
    page = client.submit(mapping_url, data={**fields, "preview": "1"}).get_data(as_text=True)
    assert "Datenwerk GmbH" not in page
    response = client.submit(mapping_url, data={**fields, "confirm": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/report")
    report = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'data-count="added">2<', report)
    assert db.session.scalar(select(Person.headline).where(Person.email == "lena@example.org")) == ""
    assert client.get(mapping_url).status_code == 302  # done: the mapping page leads to the report


@pytest.mark.parametrize("name, code", [
    ("empty.csv", "empty_file"), ("workbook.xlsx", "not_a_text_file"), ("unclosed_quote.csv", "broken_file")])
def test_a_bad_file_is_refused_beside_the_field(organizer_client, name, code):
    client, event = organizer_client
    response = upload(client, event, (DATA / name).read_bytes(), name)
    assert response.status_code == 200  # the form again, with the error beside the field
    assert field_error(response.get_data(as_text=True), "file") == code
    assert db.session.scalar(select(GuestImport.id)) is None


def test_a_file_over_five_megabytes_is_refused_beside_the_field(organizer_client):
    client, event = organizer_client
    url = f"/organizer/series/{event.series.public_id}/guests/import"
    # The body built by hand: the test client would spool one this big to a file it never closes.
    body = (f"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{client.csrf_token(url)}\r\n"
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode()
    body += b"Name,Email\n" + b"Ada,ada@example.org\n" * 270_000 + b"\r\n--b--\r\n"
    response = client.post(url, data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 200  # the form again, with the error beside the field
    assert field_error(response.get_data(as_text=True), "file") == "file_too_large"


def test_no_name_column_is_said_beside_the_name_select(organizer_client):
    client, event = organizer_client
    mapping_url = upload(client, event, (DATA / "no_name_column.csv").read_bytes()).headers["Location"]
    response = client.submit(mapping_url, data={"email": "0", "confirm": "1"})
    assert response.status_code == 200  # the form again, with the error beside the field
    assert field_error(response.get_data(as_text=True), "name") == "no_name_column"


def test_progress_answers_json(organizer_client):
    client, event = organizer_client
    mapping_url = upload(client, event, b"Name,Email\nAda,ada@example.org\n").headers["Location"]
    assert client.get(mapping_url + "/progress").get_json() == {"done": 0, "total": 1}


def test_another_organizer_gets_404(organizer_client, app, make_organizer):
    client, event = organizer_client
    mapping_url = upload(client, event, b"Name,Email\nAda,ada@example.org\n").headers["Location"]
    make_organizer("other@example.org", PASSWORD)
    other = app.test_client()
    other.submit("/organizer/login", data={"email": "other@example.org", "password": PASSWORD})
    assert other.get(mapping_url).status_code == 404
    assert "unknown_import" in error_codes(other.get(mapping_url + "/report").get_data(as_text=True))
    assert other.get(f"/organizer/series/{event.series.public_id}/guests/import").status_code == 404


def test_is_this_you_on_an_unclaimed_badge(organizer_client, app):
    client, event = organizer_client
    mapping_url = upload(client, event, b"Name,Email\nAda,ada@example.org\n").headers["Location"]
    client.submit(mapping_url, data={"name": "0", "email": "1", "confirm": "1"})
    ada = db.session.scalar(select(Person).where(Person.email == "ada@example.org"))
    visitor = app.test_client()
    page = visitor.get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert 'data-state="unclaimed"' in page and "a\u2022\u2022\u2022@example.org" in page
    assert "ada@example.org" not in page
    response = visitor.submit(f"/B/{ada.badge_token}/claim", page=f"/B/{ada.badge_token}")
    assert response.status_code == 302
    mail = db.session.scalar(select(OutgoingMail).order_by(OutgoingMail.id.desc()))
    assert mail is not None and mail.to_address == "ada@example.org"
    token = re.search(r"/signin/email/([A-Za-z0-9_-]+)", mail.text_body).group(1)
    assert visitor.submit(f"/signin/email/{token}").status_code == 302
    db.session.expire_all()
    assert ada.claimed_at is not None
    assert 'data-state="unclaimed"' not in app.test_client().get(f"/B/{ada.badge_token}").get_data(as_text=True)


def test_a_file_with_too_many_columns_is_refused_and_long_cells_are_shown_cut(organizer_client):
    client, event = organizer_client
    wide = upload(client, event, (",".join(["Name", "Email"] + ["x"] * 199) + "\nAda,ada@example.org\n").encode())
    assert wide.status_code == 200 and field_error(wide.get_data(as_text=True), "file") == "too_many_columns"
    assert db.session.scalar(select(GuestImport.id)) is None
    long_header, long_name = "H" * 5000, "N" * 5000
    mapping_url = upload(client, event, f"Name,Email,{long_header}\n{long_name},ada@example.org,x\n".encode()
                         ).headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    assert "N" * 199 in page and "N" * 200 not in page and "H" * 199 in page and "H" * 200 not in page


def test_a_mapping_value_of_non_ascii_digits_is_a_bad_mapping_not_a_500(organizer_client):
    client, event = organizer_client
    mapping_url = upload(client, event, b"Name,Email\nAda,ada@example.org\n").headers["Location"]
    for value in ("\u00b2", "\u0663", "\uff11"):  # superscript two, Arabic-Indic three, fullwidth one
        response = client.submit(mapping_url, data={"name": "0", "email": value, "preview": "1"})
        assert response.status_code == 200 and field_error(response.get_data(as_text=True), "email") == "bad_mapping"
