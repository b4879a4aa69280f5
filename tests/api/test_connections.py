"""GET /api/v1/connections (pages, ETags, statements constant in rows), one connection (read and
PATCH through followup.drafts.save_entry and notes.edit's conflict rule, If-Match), and /me."""
from datetime import timedelta

from kithmeet.connections import notes
from kithmeet.connections import services as connections
from kithmeet.database import utcnow

from .conftest import code_of


def met(ada, people, talked_about=""):
    """Ada scans each of `people`; returns the connections' public ids, in that order."""
    return [connections.connect(ada, person.badge_token, talked_about=talked_about)[0].public_id for person in people]


def crowd(make_person, event, n):
    return [make_person(f"Person {i}", event=event, contacts={"email": f"p{i}@example.org"}) for i in range(n)]


def test_the_list_pages_with_a_total_and_a_next_link(night, make_person, bearer):
    event, ada, bo = night
    met(ada, [bo, *crowd(make_person, event, 4)])
    api = bearer(ada)
    first = api.get("/api/v1/connections?per_page=2").get_json()
    assert (first["page"], first["per_page"], first["total"], len(first["connections"])) == (1, 2, 5, 2)
    assert first["next"].endswith("/api/v1/connections?page=2&per_page=2")
    last = api.get("/api/v1/connections?page=3&per_page=2").get_json()
    assert len(last["connections"]) == 1 and last["next"] is None
    names = {row["person"]["name"] for page in (1, 2, 3)
             for row in api.get(f"/api/v1/connections?page={page}&per_page=2").get_json()["connections"]}
    assert len(names) == 5 and "Bo Lind" in names


def test_bad_paging_parameters_are_refused_by_code(night, bearer):
    api = bearer(night[1])
    for query in ("page=0", "page=x", "per_page=101", "per_page=-1", "page=99999999", "page=%C2%B2"):
        response = api.get(f"/api/v1/connections?{query}")
        assert (response.status_code, code_of(response)) == (400, "bad_parameter"), query


def test_the_list_answers_304_until_it_changes(night, bearer):
    _, ada, bo = night
    api = bearer(ada)
    first = api.get("/api/v1/connections")
    tag = first.headers["ETag"]
    assert tag.startswith('"') and not tag.startswith("W/")  # strong
    assert api.get("/api/v1/connections", headers={"If-None-Match": tag}).status_code == 304
    met(ada, [bo])
    changed = api.get("/api/v1/connections", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag


def test_the_list_costs_the_same_statements_for_3_or_30_rows(night, make_person, bearer, count_queries):
    event, ada, _ = night
    people = crowd(make_person, event, 30)
    api = bearer(ada)
    met(ada, people[:3], talked_about="Words")
    api.get("/api/v1/connections")  # the token's last use is written once an hour: not in the count
    with count_queries() as few:
        assert len(api.get("/api/v1/connections").get_json()["connections"]) == 3
    met(ada, people[3:], talked_about="Words")
    with count_queries() as many:
        assert len(api.get("/api/v1/connections").get_json()["connections"]) == 30
    assert len(few) == len(many), (few, many)


def test_one_connection_shows_the_card_what_they_share_and_my_own_note(night, bearer):
    _, ada, bo = night
    [pid] = met(ada, [bo], talked_about="Rust")
    notes.edit(ada, pid, private_note="Ask about the job", private_note_seen="")
    body = bearer(ada).get(f"/api/v1/connections/{pid}").get_json()["connection"]
    assert body["person"]["name"] == "Bo Lind" and body["person"]["prompts"][0]["answer"] == "Rust"
    assert body["contacts"] == [{"kind": "phone", "label": "Phone", "value": "+44 20 7946 0958"}]
    assert body["private_note"] == "Ask about the job" and body["talked_about"] == "Rust"
    assert body["talked_about_fingerprint"] == notes.fingerprint("Rust")
    assert body["status"] == "to_follow_up" and body["times_met"] == 1
    # Bo sees Ada's shared e-mail and the shared line, never Ada's note.
    theirs = bearer(bo).get(f"/api/v1/connections/{pid}").get_json()["connection"]
    assert theirs["contacts"][0]["value"] == "ada@example.org" and theirs["private_note"] == ""
    assert "Ask about the job" not in str(theirs)


def test_someone_elses_connection_does_not_exist_for_them(night, make_person, bearer):
    event, ada, bo = night
    [pid] = met(ada, [bo])
    cy = bearer(make_person("Cy", event=event))
    for response in (cy.get(f"/api/v1/connections/{pid}"), cy.patch(f"/api/v1/connections/{pid}", {"status": "archived"}),
                     cy.get("/api/v1/connections/NOSUCHTHING")):
        assert (response.status_code, code_of(response)) == (404, "unknown_connection")


def test_patch_saves_status_note_and_line_through_the_notes_rules(night, bearer):
    _, ada, bo = night
    [pid] = met(ada, [bo], talked_about="Rust")
    api = bearer(ada)
    snooze = (utcnow() + timedelta(days=3)).date().isoformat()
    response = api.patch(f"/api/v1/connections/{pid}", {
        "status": "snoozed", "snoozed_until": snooze, "private_note": "Mine",
        "talked_about": "Rust and bikes", "talked_about_fingerprint": notes.fingerprint("Rust")})
    body = response.get_json()
    assert response.status_code == 200 and body["conflict"] is None
    assert (body["connection"]["status"], body["connection"]["snoozed_until"]) == ("snoozed", snooze)
    assert (body["connection"]["private_note"], body["connection"]["talked_about"]) == ("Mine", "Rust and bikes")
    assert bearer(bo).get(f"/api/v1/connections/{pid}").get_json()["connection"]["talked_about"] == "Rust and bikes"


def test_patch_over_a_line_changed_since_reports_the_conflict_and_saves_the_rest(night, bearer):
    _, ada, bo = night
    [pid] = met(ada, [bo], talked_about="Rust")
    seen = notes.fingerprint("Rust")
    notes.edit(bo, pid, talked_about="Bo's words", talked_about_fingerprint=seen)
    response = bearer(ada).patch(f"/api/v1/connections/{pid}", {
        "status": "followed_up", "talked_about": "Ada's words", "talked_about_fingerprint": seen})
    body = response.get_json()
    assert response.status_code == 200
    assert body["conflict"]["code"] == "edit_conflict" and body["conflict"]["their_text"] == "Bo's words"
    assert body["connection"]["talked_about"] == "Bo's words" and body["connection"]["status"] == "followed_up"


def test_patch_with_a_stale_if_match_is_refused_and_changes_nothing(night, bearer):
    _, ada, bo = night
    [pid] = met(ada, [bo], talked_about="Rust")
    api = bearer(ada)
    tag = api.get(f"/api/v1/connections/{pid}").headers["ETag"]
    fresh = api.patch(f"/api/v1/connections/{pid}", {"private_note": "First"}, headers={"If-Match": tag})
    assert fresh.status_code == 200
    stale = api.patch(f"/api/v1/connections/{pid}", {"private_note": "Second"}, headers={"If-Match": tag})
    assert (stale.status_code, code_of(stale)) == (412, "edit_conflict")
    assert api.get(f"/api/v1/connections/{pid}").get_json()["connection"]["private_note"] == "First"
    # The PATCH's own ETag is the new version: it may be used for the next change.
    assert api.patch(f"/api/v1/connections/{pid}", {"private_note": "Third"},
                     headers={"If-Match": fresh.headers["ETag"]}).status_code == 200


def test_patch_refuses_bad_values_by_code(night, bearer):
    _, ada, bo = night
    [pid] = met(ada, [bo])
    api = bearer(ada)
    cases = [({"status": "done"}, "bad_status"), ({"status": "snoozed"}, "bad_snooze_date"),
             ({"status": "snoozed", "snoozed_until": "tomorrow"}, "bad_snooze_date"),
             ({"private_note": "x" * 1001}, "too_long"), ({"talked_about": "\u200b"}, "control_characters"),
             ({"status": 3}, "bad_type"), ({"colour": "red"}, "unknown_field")]
    for body, code in cases:
        response = api.patch(f"/api/v1/connections/{pid}", body)
        assert (response.status_code, code_of(response)) == (400, code), body


def test_me_is_my_own_profile_and_badge(night, bearer):
    event, ada, _ = night
    api = bearer(ada)
    response = api.get("/api/v1/me")
    me = response.get_json()["me"]
    assert (me["name"], me["headline"], me["badge"]["token"]) == ("Ada Okafor", "Backend dev", ada.badge_token)
    assert me["badge"]["url"].endswith(f"/B/{ada.badge_token}")
    assert me["event"] == {"id": event.public_id, "name": event.name, "status": "open"}
    assert me["contacts"] == [{"kind": "email", "label": "Email", "value": "ada@example.org", "shared": True}]
    assert api.get("/api/v1/me", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_contacts_are_what_the_contact_rule_allows(night, make_person, bearer):
    from kithmeet.connections import consent

    event, ada, _ = night
    cy = make_person("Cy", event=event, contacts={"phone": "+44 20 7946 0000", "email": "cy@example.org"},
                     shared={"phone": True, "email": False})
    [pid] = met(ada, [cy])
    api = bearer(ada)
    assert [c["kind"] for c in api.get(f"/api/v1/connections/{pid}").get_json()["connection"]["contacts"]] == ["phone"]
    consent.remove(cy, pid)  # Cy took Ada off her list: her details hide from Ada too
    assert api.get(f"/api/v1/connections/{pid}").get_json()["connection"]["contacts"] == []
