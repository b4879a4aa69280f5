"""Download my data: the JSON file holds everything about the person and nothing of others
beyond what they may see; the vCards (everyone, or one person) and the CSV table parse in a
real vCard reader and the csv module with every character intact, hold the person's own
notes and never the other side's, and run no spreadsheet formula; the statements do not
grow with the number of connections."""
import csv
import io
import json
from datetime import date, datetime, timedelta
from urllib.parse import unquote

import pytest
import vobject
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kithmeet.connections import consent, notes
from kithmeet.connections import services as connections
from kithmeet.database import transaction, utcnow
from kithmeet.events import services as events
from kithmeet.extensions import db
from kithmeet.followup import drafts
from kithmeet.people import erasure, export
from kithmeet.people import services as people
from kithmeet.people.models import EmailSignin
from kithmeet.people.profile import Profile
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
        "name": ADA, "pronouns": "", "headline": HEADLINE, "email": ada.email, "badge_code": ada.badge_token,
        "share_on_connect": True, "email_confirmed_at": None, "digest_mail": True, "nudge_mail": False,
        "nudge_sent_at": None, "joined_at": None, "updated_at": None}
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
    assert {"shares_my_contacts", "acknowledged_at", "removed_at", "blocked_at", "snoozed_until", "touched_at",
            "reconnected_at", "skipped_on"} <= set(bo)
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
    assert response.headers["Content-Type"] == "text/vcard; charset=utf-8"
    text = response.get_data(as_text=True)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "\n" not in text.replace("\r\n", "")
    met = cards(text)
    # Dee's account is gone: what is left of her is on the list, so in the export; Ada's own
    # card is a download of its own.
    assert set(met) == {BO, "Cy", "Someone you met at Thursday Gathering #12 (account deleted)"}
    bo = met[BO]
    assert bo.n.value.given == BO
    assert "title" not in bo.contents  # Bo gave no headline
    assert [e.value for e in bo.contents["email"]] == ["bo@example.org"]
    assert [u.value for u in bo.contents["url"]] == ["https://bo.example.org/a,b;c"]
    assert "tel" not in bo.contents and BO_NOTE not in text and BO_PHONE not in text
    assert bo.note.value == f"Met at Thursday Gathering #12 on 2026-11-26: {TALKED}\n\nMy private note: {ADA_NOTE}"
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
    for path in ("/account", "/account/my-data.json", "/account/people-i-met.vcf", "/account/my-card.vcf",
                 "/account/people-i-met.csv", "/followup/ABCDEFGHJKM.vcf"):
        assert client.get(path).status_code == 302


def test_the_account_page_offers_the_downloads_and_deletion(ada, signed_in):
    html = signed_in(ada).get("/account").get_data(as_text=True)
    for path in ("/account/my-data.json", "/account/people-i-met.vcf", "/account/people-i-met.csv",
                 "/account/my-card.vcf", "/account/delete"):
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


def email_signin(person, minutes_ago=0):
    """An e-mailed sign-in link as H1's service stores it: only the token's hash."""
    made = utcnow() - timedelta(minutes=minutes_ago)
    db.session.add(EmailSignin(token_hash=f"{person.id:04d}{minutes_ago:04d}".ljust(64, "f"), person_id=person.id,
                               email=f"p{person.id}@example.org", created_at=made,
                               expires_at=made + timedelta(minutes=30)))
    db.session.commit()


@pytest.mark.parametrize("path", ["/account/my-data.json", "/account/people-i-met.vcf",
                                  "/account/people-i-met.csv", "one person's vCard"])
def test_the_downloads_take_the_same_statements_however_much_there_is(make_organizer, make_event, make_person,
                                                                     signed_in, count_queries, path):
    organizer = make_organizer()
    event = make_event(organizer)
    hosts, last = {}, {}
    for name, guests in (("Few", 1), ("Many", 12)):
        host = hosts[name] = make_person(name, event=event, contacts={"email": f"{name}@example.org"})
        for i in range(guests):
            guest = people.join_event(event, Profile(
                name=f"{name} guest {i}", contacts={"email": f"{name}{i}@example.org"}, shared={"email": True},
                share_on_connect=i % 2 == 0))
            connection, _ = connections.connect(host, guest.badge_token, talked_about=f"words {i}",
                                                private_note=f"note {i}")
            last[name] = connection.public_id
            drafts.save_entry(host, connection.public_id, talked_about=f"draft {i}",
                              talked_about_fingerprint="0" * 16)
            db.session.add(Report(series_id=event.series_id, reporter_id=host.id, reported_id=guest.id,
                                  reason="other", details=f"report {i}"))
            email_signin(host, i)
            if name == "Many" and i == 3:
                consent.remove(host, connection.public_id)
            if name == "Many" and i == 4:
                erasure.delete_account(guest, "DELETE")
        db.session.commit()
    # Many meets most of them again the next week: more encounters, the same statements.
    events.set_status(organizer, event.public_id, "closed")
    week2 = make_event(organizer, name="Week 2")
    with transaction():
        events.check_in(hosts["Many"].id, week2)
    for i in (5, 6, 7, 8, 9, 10, 11):
        guest = db.session.scalar(db.select(people.Person).where(people.Person.name == f"Many guest {i}"))
        connections.connect(hosts["Many"], guest.badge_token, talked_about=f"again {i}")

    def url(name):
        return f"/followup/{last[name]}.vcf" if path == "one person's vCard" else path
    few = export_statements(hosts["Few"], signed_in, count_queries, url("Few"))
    assert few == export_statements(hosts["Many"], signed_in, count_queries, url("Many"))


# Several connections: removed, deleted, shared only once confirmed, met twice.

# 500 characters: commas, semicolons, backslashes, line breaks, right to left, a combining
# accent, emoji and an emoji sequence, folded across many lines.
LONG_NOTE = ("Ünïcode, commas; semicolons \\ back\\slashes\nمرحبا بالعالم e\u0301 🦊👩🏽‍💻 " * 20)[:499] + "!"
BO_LINE_1 = "Kilns, glazes; and \\ backslashes in C:\\new\\, C:\\; \\\\n\nsecond line 🎉 مرحبا"
BO_LINE_2 = "=1+1 looked like a formula, but it's just what we talked about"
CY = "سيّد النّجار"  # right to left, with combining marks (shadda)
FAY = "Fay Nguye\u0302\u0303n; \\ 👩🏽‍💻"  # combining circumflex and tilde; a backslash; an emoji sequence
FAY_NOTE = "fay-private-note-3391"
CY_EMAIL = "cy@example.org"


@pytest.fixture
def circle(make_organizer, make_event, make_person):
    """Ada met Bo at two events (he shares email and website), Cy (who shares only once he
    confirms), Dee (since deleted), Eve (whom Ada removed) and Fay (who removed Ada)."""
    organizer = make_organizer()
    week1 = make_event(organizer, name="Week 1, the first")
    ada = make_person(ADA, event=week1, headline=HEADLINE)
    bo = make_person(BO, event=week1, headline="@founder; +tinkerer", contacts={
        "email": "bo@example.org", "phone": BO_PHONE, "website": "https://bo.example.org/a,b;c"},
        shared={"email": True, "phone": False, "website": True})
    cy = people.join_event(week1, Profile(name=CY, headline="مهندس", contacts={"email": CY_EMAIL},
                                          shared={"email": True}, share_on_connect=False))
    dee = make_person("Dee", event=week1)
    eve = make_person("Eve", event=week1, contacts={"email": "eve@example.org"})
    fay = make_person(FAY, event=week1, contacts={"phone": "-5 tricky"})
    ids = {}
    for name, other, talked, note in (("bo", bo, BO_LINE_1, LONG_NOTE), ("cy", cy, "tea; \\o/", "cy note"),
                                      ("dee", dee, "Dee's words", "dee note"), ("eve", eve, "", "eve note"),
                                      ("fay", fay, "", "+fay note")):
        ids[name] = connections.connect(ada, other.badge_token, talked_about=talked, private_note=note)[0].public_id
    notes.edit(bo, ids["bo"], private_note=BO_NOTE)
    notes.edit(fay, ids["fay"], private_note=FAY_NOTE)
    erasure.delete_account(dee, "DELETE")
    consent.remove(ada, ids["eve"])
    consent.remove(fay, ids["fay"])
    events.set_status(organizer, week1.public_id, "closed")
    week2 = make_event(organizer, name="Week 2")
    week2.starts_at = datetime(2026, 12, 3, 19, 0)
    db.session.commit()
    with transaction():
        events.check_in(ada.id, week2)
    connections.connect(ada, bo.badge_token, talked_about=BO_LINE_2)
    notes.edit(ada, ids["bo"], status="followed_up")
    db.session.expire_all()
    return ada, bo, cy, ids


def expected_note(lines, private_note):
    return "\n".join(lines) + f"\n\nMy private note: {private_note}"


BO_MET = [f"Met at Week 2 on 2026-12-03: {BO_LINE_2}", f"Met at Week 1, the first on 2026-11-26: {BO_LINE_1}"]


def test_every_card_parses_and_reads_back_names_and_notes_exactly(circle, signed_in):
    ada, bo, cy, ids = circle
    assert len(LONG_NOTE) == 500
    text = download(signed_in(ada), "/account/people-i-met.vcf").get_data(as_text=True)
    lines = text.split("\r\n")
    assert lines[-1] == "" and all(0 < len(line.encode()) <= 75 for line in lines[:-1])
    assert sum(line.startswith(" ") for line in lines) > 10  # the 500-character note is folded
    met = cards(text)
    deleted = "Someone you met at Week 1, the first (account deleted)"
    assert set(met) == {BO, CY, deleted, FAY}  # Eve, whom Ada removed, is not on her list
    assert [(met[name].n.value.given, met[name].n.value.family) for name in (BO, CY, FAY)] == [
        (BO, ""), (CY, ""), (FAY, "")]
    assert (met[BO].title.value, met[CY].title.value) == ("@founder; +tinkerer", "مهندس")
    assert met[BO].note.value == expected_note(BO_MET, LONG_NOTE)
    assert met[CY].note.value == expected_note(["Met at Week 1, the first on 2026-11-26: tea; \\o/"], "cy note")
    # Dee's shared line went with her account; Ada's note and where they met stay.
    assert met[deleted].note.value == expected_note(["Met at Week 1, the first on 2026-11-26"], "dee note")
    assert met[FAY].note.value == expected_note(["Met at Week 1, the first on 2026-11-26"], "+fay note")
    for hidden in (BO_NOTE, FAY_NOTE, BO_PHONE, "-5 tricky", CY_EMAIL, "eve", "Eve"):
        assert hidden not in text


def test_contacts_shared_only_once_confirmed_are_exported_only_then(circle, signed_in):
    ada, bo, cy, ids = circle
    client = signed_in(ada)
    paths = ("/account/people-i-met.vcf", f"/followup/{ids['cy']}.vcf", "/account/people-i-met.csv",
             "/account/my-data.json")
    for path in paths:
        assert CY_EMAIL not in download(client, path).get_data(as_text=True)
    consent.confirm(cy, ids["cy"])
    for path in paths:
        assert CY_EMAIL in download(client, path).get_data(as_text=True)
    assert [e.value for e in cards(download(client, f"/followup/{ids['cy']}.vcf").get_data(as_text=True))[CY]
            .contents["email"]] == [CY_EMAIL]


def test_one_persons_vcard_for_either_of_the_two_and_no_one_else(circle, signed_in, make_person):
    ada, bo, cy, ids = circle
    response = download(signed_in(ada), f"/followup/{ids['bo']}.vcf")
    assert response.headers["Content-Type"] == "text/vcard; charset=utf-8"
    (card,) = vobject.readComponents(response.get_data(as_text=True))
    assert (card.fn.value, card.note.value) == (BO, expected_note(BO_MET, LONG_NOTE))
    assert [e.value for e in card.contents["email"]] == ["bo@example.org"] and "tel" not in card.contents
    # Bo's download of the same connection is Ada's card, with his note, never hers.
    text = download(signed_in(bo), f"/followup/{ids['bo']}.vcf").get_data(as_text=True)
    (card,) = vobject.readComponents(text)
    assert card.fn.value == ADA and card.note.value == expected_note(BO_MET, BO_NOTE)
    assert "email" not in card.contents  # Ada gave no contact fields
    # Cy is not part of it; Eve's connection Ada removed; an unknown one: all 404.
    assert signed_in(cy).get(f"/followup/{ids['bo']}.vcf").status_code == 404
    ada_client = signed_in(ada)
    for missing in (ids["eve"], "ABCDEFGHJKM"):
        assert ada_client.get(f"/followup/{missing}.vcf").status_code == 404
    # What is left of Dee comes as the list shows it.
    (card,) = vobject.readComponents(download(ada_client, f"/followup/{ids['dee']}.vcf").get_data(as_text=True))
    assert card.fn.value == "Someone you met at Week 1, the first (account deleted)"


def test_the_connection_page_links_to_its_vcard(circle, signed_in):
    ada, bo, cy, ids = circle
    client = signed_in(ada)
    for name in ("bo", "dee"):
        assert f'href="/followup/{ids[name]}.vcf"' in client.get(f"/followup/{ids[name]}").get_data(as_text=True)


def test_the_download_file_name_is_the_persons_and_cannot_break_the_header(circle, signed_in):
    ada, bo, cy, ids = circle
    client = signed_in(ada)
    disposition = download(client, f"/followup/{ids['bo']}.vcf").headers["Content-Disposition"]
    assert disposition == ('attachment; filename="Bo Angstrom.vcf"; '
                           "filename*=UTF-8''Bo%20%C3%85ngstr%C3%B6m%2C%20%F0%9F%8E%89.vcf")
    disposition = download(client, f"/followup/{ids['cy']}.vcf").headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="contact.vcf"; filename*=UTF-8\'\'%D8%B3')
    assert export.attachment("kithmeet-people-i-met.csv") == 'attachment; filename="kithmeet-people-i-met.csv"'
    # Names are refused with these characters, but the header must not depend on that.
    for nasty in ("a\r\nSet-Cookie: x=1", "..\\../\"evil\"", "abc\u202egpj.exe", "\x00\x85\u2028"):
        value = export.attachment(f"{nasty}.vcf")
        assert not any(ch in value for ch in "\r\n\x00\x85\u2028\u202e/\\")
        assert value.count('"') == 2 and value.startswith('attachment; filename="')
        # What a browser decodes from filename* is as clean: no path, no control or direction character.
        decoded = unquote(value.partition("filename*=UTF-8''")[2])
        assert not any(ch in decoded for ch in "\r\n\x00\x85\u2028\u202e/\\\"")


def read_csv(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark, for spreadsheet apps
    text = body.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_csv_has_one_row_per_person_with_what_the_list_shows(circle, signed_in):
    ada, bo, cy, ids = circle
    response = download(signed_in(ada), "/account/people-i-met.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.get_data().split(b"\r\n")[0] == "\ufeff".encode() + ",".join(export.CSV_HEADER).encode()
    rows = read_csv(response)
    assert [row["Name"] for row in rows] == [BO, CY, "Someone you met at Week 1, the first (account deleted)", FAY]
    bo_row, cy_row, dee_row, fay_row = rows
    assert bo_row == {
        "Name": BO, "Headline": "'@founder; +tinkerer", "Email": "bo@example.org", "Phone": "", "LinkedIn": "",
        "Website": "https://bo.example.org/a,b;c", "First met at": "Week 1, the first", "First met on": "2026-11-26",
        "Last met at": "Week 2", "Last met on": "2026-12-03", "Times met": "2",
        "Talked about": f"Week 2 (2026-12-03): {BO_LINE_2}\nWeek 1, the first (2026-11-26): {BO_LINE_1}",
        "Status": "Followed up", "My private note": LONG_NOTE}
    assert (cy_row["Headline"], cy_row["Email"], cy_row["Status"]) == ("مهندس", "", "To follow up")
    assert (dee_row["Times met"], dee_row["Talked about"], dee_row["My private note"]) == ("1", "", "dee note")
    # Fay removed Ada: still on Ada's list, without her contacts; the apostrophe keeps "+fay note" text.
    assert (fay_row["Phone"], fay_row["My private note"]) == ("", "'+fay note")
    body = response.get_data(as_text=True)
    for hidden in (BO_NOTE, FAY_NOTE, BO_PHONE, "-5 tricky", "Eve", "eve note"):
        assert hidden not in body


def test_the_csv_runs_no_spreadsheet_formula(make_event, make_person, signed_in):
    event = make_event(name="=HYPERLINK(\"http://evil.example\")")
    ada = make_person("Ada", event=event)
    for name, headline, talked, note in (("=cmd|' /C calc'!A0", "+1 555", "-2+3", "@SUM(A1)"),
                                         ("Plain", "plain", "plain", "=1+1")):
        other = make_person(name, event=event, headline=headline, contacts={"phone": "+44 20 7946 0000"})
        connections.connect(ada, other.badge_token, talked_about=talked, private_note=note)
    rows = read_csv(download(signed_in(ada), "/account/people-i-met.csv"))
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert (rows[0]["Name"], rows[0]["Headline"], rows[0]["Phone"], rows[0]["My private note"],
            rows[0]["First met at"]) == ("'=cmd|' /C calc'!A0", "'+1 555", "'+44 20 7946 0000", "'@SUM(A1)",
                                         "'=HYPERLINK(\"http://evil.example\")")
    assert rows[1]["My private note"] == "'=1+1" and rows[1]["Name"] == "Plain"
    # A tab or carriage return before a formula hides it from the eye, not from the spreadsheet.
    assert [export._cell(value) for value in ("\t=1+1", "\r=1+1", "a=b", "", 3)] == [
        "'\t=1+1", "'\r=1+1", "a=b", "", "3"]


def test_my_data_has_the_mail_choices_the_rotation_and_sign_in_requests_but_no_token(circle, signed_in):
    ada, bo, cy, ids = circle
    confirmed = datetime(2026, 11, 27, 8, 30)
    ada.email_confirmed_at, ada.digest_mail, ada.nudge_mail = confirmed, False, True
    side = notes.own_side(ada, ids["bo"])
    side.snoozed_until, side.reconnected_at, side.skipped_on = date(2027, 1, 4), confirmed, date(2026, 12, 1)
    db.session.commit()
    email_signin(ada, 5)
    token_hash = db.session.scalar(db.select(EmailSignin.token_hash).where(EmailSignin.person_id == ada.id))
    body = download(signed_in(ada), "/account/my-data.json").get_data(as_text=True)
    data = json.loads(body)
    assert (data["profile"]["email_confirmed_at"], data["profile"]["digest_mail"], data["profile"]["nudge_mail"]) \
        == ("2026-11-27T08:30:00Z", False, True)
    (signin,) = data["email_sign_in_links"]
    assert set(signin) == {"email", "requested_at", "expires_at", "used_at"}
    assert signin["email"] == f"p{ada.id}@example.org"
    assert token_hash not in body
    bo_entry = next(entry for entry in data["connections"] if entry["with"]["name"] == BO)
    assert (bo_entry["snoozed_until"], bo_entry["reconnected_at"], bo_entry["skipped_on"]) == (
        "2027-01-04", "2026-11-27T08:30:00Z", "2026-12-01")
    assert bo_entry["touched_at"] is not None and bo_entry["private_note"] == LONG_NOTE
    # Nothing of others beyond the list: their private notes, unshared or unconfirmed fields.
    for hidden in (BO_NOTE, FAY_NOTE, BO_PHONE, "-5 tricky", CY_EMAIL, "eve@example.org"):
        assert hidden not in body
