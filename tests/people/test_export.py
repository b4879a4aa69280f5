"""Download my data: the JSON file holds everything about the person and nothing of others
beyond what they may see; the vCards parse in a real vCard reader with every character
intact; the statements do not grow with the number of connections."""
import json

import pytest
import vobject
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.extensions import db
from kithmeet.followup import drafts
from kithmeet.people import erasure
from kithmeet.people import services as people
from kithmeet.people.vcard import Card, document
from kithmeet.reports.models import Report

ADA = 'Zoë Ó\'Brien; Jr., \\o/ 🦊'
HEADLINE = "مهندسة بيانات — data, pipelines; ETL"
TALKED = "Kilns, glazes; and \\ backslashes\nsecond line 🎉"
ADA_NOTE = "Call Monday, maybe; bring the 🧪"
BO = "Bo Ångström, 🎉"
BO_NOTE = "bo-private-note-9931"
BO_PHONE = "+44 20 7946 0001"
REPORT_FILED = "kept interrupting; twice"
REPORT_ABOUT_ADA = "cy-report-about-ada-5521"


@pytest.fixture
def ada(make_organizer, make_event, make_person):
    """Ada met Bo (shares email and website, not phone), Cy (shares nothing) and Dee (since
    deleted); she reported Cy, Cy reported her, and she replaced her badge."""
    event = make_event(make_organizer(), name="Thursday Gathering #12")
    ada = make_person(ADA, event=event, headline=HEADLINE, answers=[(event.prompt_labels[0], "Glass, kilns")],
                      contacts={"email": "ada@example.org", "phone": "+44 20 7946 0000"},
                      shared={"email": True, "phone": False})
    bo = make_person(BO, event=event, contacts={"email": "bo@example.org", "phone": BO_PHONE,
                                                "website": "https://bo.example.org/a,b;c"},
                     shared={"email": True, "phone": False, "website": True})
    cy = make_person("Cy", event=event, contacts={"email": "cy@example.org"}, shared={"email": False})
    dee = make_person("Dee", event=event)
    with_bo, _ = connections.connect(ada, bo.badge_token, talked_about=TALKED, private_note=ADA_NOTE)
    notes.edit(bo, with_bo.public_id, private_note=BO_NOTE)
    drafts.save_entry(ada, with_bo.public_id, talked_about="my unsaved words", talked_about_fingerprint="0" * 16)
    connections.connect(cy, ada.badge_token, talked_about="Cy's words")
    connections.connect(dee, ada.badge_token)
    erasure.delete_account(dee, "DELETE")
    people.replace_badge(ada)
    db.session.add_all([
        Report(series_id=event.series_id, event_id=event.id, reporter_id=ada.id, reported_id=cy.id,
               reason="harassment", details=REPORT_FILED),
        Report(series_id=event.series_id, event_id=event.id, reporter_id=cy.id, reported_id=ada.id, reason="spam",
               details=REPORT_ABOUT_ADA)])
    db.session.commit()
    return ada


def download(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    return response


def test_my_data_holds_everything_about_me(ada, signed_in):
    response = download(signed_in(ada), "/account/my-data.json")
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"] | {"joined_at": None, "updated_at": None} == {
        "name": ADA, "pronouns": "", "headline": HEADLINE, "email": None, "badge_code": ada.badge_token,
        "share_on_connect": True, "joined_at": None, "updated_at": None}
    assert data["contact_fields"] == [{"kind": "email", "value": "ada@example.org", "shared": True},
                                      {"kind": "phone", "value": "+44 20 7946 0000", "shared": False}]
    assert data["prompt_answers"] == [{"prompt": "Ask me about", "answer": "Glass, kilns"}]
    assert len(data["replaced_badge_codes"]) == 1
    assert [(c["event"], c["series"], c["date"]) for c in data["check_ins"]] == [
        ("Thursday Gathering #12", "Thursday Gathering", "2026-11-26")]

    by_name = {entry["with"]["name"]: entry for entry in data["connections"]}
    assert set(by_name) == {BO, "Cy", None}
    bo = by_name[BO]
    assert bo["with"]["contact_fields"] == [{"kind": "email", "value": "bo@example.org"},
                                            {"kind": "website", "value": "https://bo.example.org/a,b;c"}]
    assert (bo["status"], bo["private_note"], bo["unsaved_talked_about"]) == ("to_follow_up", ADA_NOTE,
                                                                              "my unsaved words")
    assert [(e["event"], e["date"], e["talked_about"]) for e in bo["encounters"]] == [
        ("Thursday Gathering #12", "2026-11-26", TALKED)]
    assert {"shares_my_contacts", "acknowledged_at", "removed_at", "blocked_at"} <= set(bo)
    assert by_name["Cy"]["with"]["contact_fields"] == []
    assert by_name["Cy"]["encounters"][0]["talked_about"] == "Cy's words"
    assert by_name[None]["with"] == {"name": None, "account_deleted": True, "contact_fields": []}
    assert [(s["scanned"], s["event"]) for s in data["scans"]] == [(BO, "Thursday Gathering #12")]
    assert [(r["about"], r["details"]) for r in data["reports_filed"]] == [("Cy", REPORT_FILED)]


def test_my_data_shows_nothing_of_others_beyond_what_i_may_see(ada, signed_in):
    body = download(signed_in(ada), "/account/my-data.json").get_data(as_text=True)
    for hidden in (BO_NOTE, BO_PHONE, "cy@example.org", REPORT_ABOUT_ADA):
        assert hidden not in body


def cards(text):
    return {card.fn.value: card for card in vobject.readComponents(text)}


def test_people_i_met_as_vcards_with_what_the_contact_rule_allows(ada, signed_in):
    response = download(signed_in(ada), "/account/people-i-met.vcf")
    assert response.mimetype == "text/vcard"
    text = response.get_data(as_text=True)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "\n" not in text.replace("\r\n", "")
    met = cards(text)
    assert set(met) == {BO, "Cy"}  # Dee's account is gone; Ada's own card is a download of its own
    bo = met[BO]
    assert bo.n.value.given == BO
    assert [e.value for e in bo.contents["email"]] == ["bo@example.org"]
    assert [u.value for u in bo.contents["url"]] == ["https://bo.example.org/a,b;c"]
    assert "tel" not in bo.contents and BO_NOTE not in text and BO_PHONE not in text
    assert bo.note.value == f"Met at Thursday Gathering #12 on 2026-11-26: {TALKED}"
    assert "email" not in met["Cy"].contents


def test_my_own_card_has_everything_i_gave(ada, signed_in):
    mine = cards(download(signed_in(ada), "/account/my-card.vcf").get_data(as_text=True))
    assert set(mine) == {ADA}
    card = mine[ADA]
    assert (card.n.value.given, card.title.value) == (ADA, HEADLINE)
    assert [e.value for e in card.contents["email"]] == ["ada@example.org"]
    assert [t.value for t in card.contents["tel"]] == ["+44 20 7946 0000"]  # her own, shared or not
    assert card.note.value == "Ask me about: Glass, kilns"


def test_downloads_need_a_signed_in_person(client):
    for path in ("/account", "/account/my-data.json", "/account/people-i-met.vcf", "/account/my-card.vcf"):
        assert client.get(path).status_code == 302


def test_the_account_page_offers_the_downloads_and_deletion(ada, signed_in):
    html = signed_in(ada).get("/account").get_data(as_text=True)
    for path in ("/account/my-data.json", "/account/people-i-met.vcf", "/account/my-card.vcf", "/account/delete"):
        assert f'href="{path}"' in html


# Names and notes take any printable text; line breaks only in notes.
printable = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")), max_size=300)


@settings(max_examples=200, derandomize=True, deadline=None)
@example(name="C:\\new folder\\; a\\,b \\\\", note="a backslash-n \\n is not a line break")
@given(name=printable.filter(str.strip), note=st.lists(printable, max_size=4).map("\n".join))
def test_a_vcard_reader_reads_back_exactly_what_was_written(name, note):
    name, note = name.strip(), note.strip()
    text = document([Card(name, title=name, contacts=[("email", name)], note=note)])
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    card = next(vobject.readComponents(text))
    assert (card.fn.value, card.n.value.given, card.title.value, card.email.value) == (name, name, name, name)
    assert card.note.value == note if note else "note" not in card.contents


def export_statements(person, signed_in, count_queries, path):
    client = signed_in(person)
    client.get(path)  # the session's first page: its row is written once
    with count_queries() as statements:
        assert client.get(path).status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["/account/my-data.json", "/account/people-i-met.vcf"])
def test_the_downloads_take_the_same_statements_however_much_there_is(make_event, make_person, signed_in,
                                                                     count_queries, path):
    event = make_event()
    hosts = {}
    for name, guests in (("Few", 1), ("Many", 12)):
        host = hosts[name] = make_person(name, event=event, contacts={"email": f"{name}@example.org"})
        for i in range(guests):
            guest = make_person(f"{name} guest {i}", event=event, contacts={"email": f"g{i}@example.org"})
            connection, _ = connections.connect(host, guest.badge_token, talked_about=f"words {i}",
                                                private_note=f"note {i}")
            drafts.save_entry(host, connection.public_id, talked_about=f"draft {i}",
                              talked_about_fingerprint="0" * 16)
            db.session.add(Report(series_id=event.series_id, reporter_id=host.id, reported_id=guest.id,
                                  reason="other", details=f"report {i}"))
        db.session.commit()
    few = export_statements(hosts["Few"], signed_in, count_queries, path)
    assert few == export_statements(hosts["Many"], signed_in, count_queries, path)
