"""Editing your own profile (/profile): every join field plus the e-mail identity, saved all or
nothing, with a preview of what others see before and after connecting."""
import logging
import re
from datetime import datetime

import pytest
from sqlalchemy import text

from kithmeet.errors import DomainError
from kithmeet.extensions import db
from kithmeet.people import identity
from kithmeet.people import services as people
from kithmeet.people.models import Person
from kithmeet.people.profile import Profile

from ..pages import error_codes, field_error, form_error_codes
from ..postgres import BOTH_DATABASES

RTL_NAME = "أمينة الحسن"
EMOJI_NAME = "Zoë 🦊👩🏽‍💻"  # a ZWJ sequence: the joiner is kept, not refused as hidden


def saved(person_id):
    """The person as the database holds it, not as this session remembers it."""
    db.session.expire_all()
    return db.session.get(Person, person_id)


def full_profile(name="Ada Okafor", **extra):
    return Profile(**{
        "name": name, "pronouns": "she/her", "headline": "Backend dev",
        "contacts": {"email": "ada@example.org", "phone": "+44 20 7946 0958"},
        "shared": {"email": True, "phone": False},
        "answers": (("Ask me about", "Rust"), ("I can help with", "Flask")), "share_on_connect": True, **extra})


def page_fields(html):
    """The profile form as the page draws it: every text input and ticked box, with its value."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = value.group(1) if value else ""
    return fields


@pytest.fixture
def ada(make_person):
    person = make_person("Ada Okafor", contacts={"email": "ada@example.org"})
    identity.set_email(person, "ada@example.org")
    return person


@pytest.fixture
def bo(make_person):
    person = make_person("Bo")
    identity.set_email(person, "bo@example.org")
    return person


# ---------------------------------------------------------------- the service

@pytest.mark.parametrize("name", [RTL_NAME, EMOJI_NAME, "Ŝtefan Müller-Łukasz", "<b>Ada</b> & co"])
def test_every_field_is_saved_and_unicode_survives(ada, name):
    people.update_profile(ada, full_profile(name, headline=f"{name} — مهندسة", share_on_connect=False),
                          "  Ada.New@Example.ORG ")
    person = saved(ada.id)
    assert (person.name, person.pronouns, person.headline) == (name, "she/her", f"{name} — مهندسة")
    assert {(c.kind, c.value, c.shared) for c in person.contacts} == {
        ("email", "ada@example.org", True), ("phone", "+44 20 7946 0958", False)}
    assert [(a.prompt, a.answer) for a in person.answers] == [("Ask me about", "Rust"), ("I can help with", "Flask")]
    assert person.share_on_connect is False
    assert person.email == "ada.new@example.org"  # the identity's normal form


def test_answers_to_prompts_not_shown_are_kept(ada):
    people.update_profile(ada, Profile(name="Ada", answers=(("An older prompt", "Kept"),)), "ada@example.org")
    people.update_profile(ada, Profile(name="Ada", answers=(("Ask me about", "Rust"), ("I can help with", ""))),
                          "ada@example.org")
    answers = {a.prompt: a.answer for a in saved(ada.id).answers}
    assert answers == {"Ask me about": "Rust", "An older prompt": "Kept"}  # the emptied one is gone


def test_the_page_asks_the_latest_events_prompts_then_those_already_answered(make_organizer, make_event, make_person):
    organizer = make_organizer()
    week1 = make_event(organizer, name="Week 1", prompts=("Ask me about", "My favourite tool"))
    week2 = make_event(organizer, name="Week 2", prompts=("I'm looking for", "Ask me about"))
    person = make_person("Ada", event=week1, answers=[("Ask me about", "Rust"), ("My favourite tool", "vim")])
    assert people.profile_prompts(person) == ["Ask me about", "My favourite tool"]
    people.join_event(week2, Profile(name="Ada", answers=(("I'm looking for", "a job"),)), person=person)
    assert people.profile_prompts(saved(person.id)) == ["I'm looking for", "Ask me about", "My favourite tool"]


@pytest.mark.parametrize("profile,email,code", [
    (full_profile(name="   "), "ada@example.org", "name_required"),
    (full_profile(name="x" * 81), "ada@example.org", "too_long"),
    (full_profile(headline="x" * 121), "ada@example.org", "too_long"),
    (full_profile(answers=(("Ask me about", "x" * 201),)), "ada@example.org", "too_long"),
    (full_profile(contacts={"fax": "+44 1"}), "ada@example.org", "bad_contact"),
    (full_profile(name="Ada\u202eakO"), "ada@example.org", "control_characters"),
    (full_profile(), "not an address", "bad_email"),
    (full_profile(), "x" * 250 + "@example.org", "bad_email"),
    (full_profile(), "BO@example.org", "email_taken"),  # Bo's, in another case
])
def test_each_refusal_saves_nothing_at_all(ada, bo, db_state, profile, email, code):
    before = db_state()
    with pytest.raises(DomainError) as refused:
        people.update_profile(ada, profile, email)
    assert refused.value.code == code
    assert db_state() == before


def test_a_taken_email_leaves_the_name_unchanged_too(ada, bo, count_queries):
    with count_queries() as statements, pytest.raises(DomainError) as refused:
        people.update_profile(ada, full_profile(name="Ada Renamed"), "bo@example.org")
    assert refused.value.code == "email_taken"
    # Refused by checking first, not by writing and rolling back.
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert (saved(ada.id).name, saved(ada.id).email) == ("Ada Okafor", "ada@example.org")


@BOTH_DATABASES
def test_an_email_claimed_meanwhile_rolls_the_whole_edit_back(ada, bo, db_state, monkeypatch):
    """Bo's address is free when checked but taken at the write (a claim racing this one): the unique
    index refuses it, and the name written just before goes too."""
    monkeypatch.setattr(identity, "person_by_email", lambda _email: None)  # the check saw it free

    def claim_without_looking(person, email):
        person.email = email
        db.session.flush()
    monkeypatch.setattr(identity, "claim_email", claim_without_looking)
    before = db_state()
    with pytest.raises(DomainError) as refused:
        people.update_profile(ada, full_profile(name="Ada Renamed"), "bo@example.org")
    assert refused.value.code == "email_taken"
    assert db_state() == before


def test_changing_the_identity_unconfirms_it_and_an_unchanged_one_stays_confirmed(ada):
    ada.email_confirmed_at = datetime(2026, 11, 26, 20, 0)
    db.session.commit()
    people.update_profile(ada, full_profile(), "ADA@example.org")  # the same address, typed in capitals
    assert saved(ada.id).email_confirmed_at == datetime(2026, 11, 26, 20, 0)
    people.update_profile(saved(ada.id), full_profile(), "ada@work.example.org")
    assert (saved(ada.id).email, saved(ada.id).email_confirmed_at) == ("ada@work.example.org", None)


def test_an_empty_identity_clears_it_and_frees_the_address(ada, bo):
    people.update_profile(ada, full_profile(), "")
    assert saved(ada.id).email is None
    people.update_profile(saved(bo.id), full_profile(name="Bo"), "ada@example.org")
    assert saved(bo.id).email == "ada@example.org"


def test_the_change_is_logged_with_ids_only(ada, caplog):
    with caplog.at_level(logging.INFO, logger="kithmeet.changes"):
        people.update_profile(ada, full_profile(name="Ada Renamed"), "Ada@Example.org")
        people.update_profile(ada, full_profile(name="Ada Renamed"), "ada@work.example.org")
    lines = [line for line in caplog.text.splitlines() if "person.profile_updated" in line]
    assert [line.split("person.profile_updated ")[1] for line in lines] == [
        f"actor=person:{ada.id} email_changed=False", f"actor=person:{ada.id} email_changed=True"]
    assert "Renamed" not in caplog.text and "work.example.org" not in caplog.text


# ---------------------------------------------------------------- the page

def test_the_page_needs_a_signed_in_person(client):
    assert client.get("/profile").status_code == 302
    assert client.post("/profile", data={"name": "Forged"}).status_code in (302, 400)


def test_home_and_badge_pages_lead_here(signed_in, ada):
    client = signed_in(ada)
    for page in ("/", "/badge"):
        assert 'href="/profile"' in client.get(page).get_data(as_text=True), page


def test_the_form_is_filled_in_with_every_field_and_the_identity(signed_in, ada):
    people.update_profile(ada, full_profile(share_on_connect=False), "ada@example.org")
    fields = page_fields(signed_in(saved(ada.id)).get("/profile").get_data(as_text=True))
    assert {key: fields.get(key) for key in ("name", "pronouns", "headline", "email", "phone", "email_identity",
                                             "prompt_0", "prompt_1")} == {
        "name": "Ada Okafor", "pronouns": "she/her", "headline": "Backend dev", "email": "ada@example.org",
        "phone": "+44 20 7946 0958", "email_identity": "ada@example.org", "prompt_0": "Rust", "prompt_1": "Flask"}
    assert "share_email" in fields and "share_phone" not in fields and "confirm_before_sharing" in fields


def test_saving_redirects_back_and_says_so_at_the_top(signed_in, ada):
    client = signed_in(ada)
    fields = page_fields(client.get("/profile").get_data(as_text=True))
    response = client.post("/profile", data={**fields, "name": RTL_NAME, "headline": EMOJI_NAME,
                                             "email_identity": "ada@work.example.org"})
    assert response.status_code == 302 and response.location == "/profile"
    html = client.get("/profile").get_data(as_text=True)
    flash = re.search(r'<div class="flashes" role="status">(.*?)</div>', html, re.DOTALL)
    assert flash and "flash-success" in flash.group(1)
    assert html.index('class="flashes"') < html.index("<form")
    person = saved(ada.id)
    assert (person.name, person.headline, person.email) == (RTL_NAME, EMOJI_NAME, "ada@work.example.org")
    assert [c.value for c in person.contacts] == ["ada@example.org"]  # untouched fields keep their values


def test_a_taken_email_is_shown_beside_its_field_keeps_what_was_typed_and_saves_nothing(signed_in, ada, bo, db_state):
    client = signed_in(ada)
    fields = page_fields(client.get("/profile").get_data(as_text=True))
    before = db_state()
    response = client.post("/profile", data={**fields, "name": "Ada Renamed", "email_identity": "Bo@Example.org"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(html, "email_identity") == "email_taken"
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*name="email_identity"[^>]*>', html).group(0)
    assert page_fields(html)["name"] == "Ada Renamed" and page_fields(html)["email_identity"] == "Bo@Example.org"
    assert db_state() == before
    # The preview is the saved profile, not what was typed.
    assert "Ada Renamed" not in html.split('id="preview-heading"')[1]


@pytest.mark.parametrize("change,field,code", [
    ({"name": ""}, "name", "required"),
    ({"name": "x" * 81}, "name", "too_long"),
    ({"email_identity": "not an address"}, "email_identity", "bad_email"),
    ({"phone": "call me maybe"}, "phone", "bad_phone"),
    ({"website": "javascript:alert(1)"}, "website", "bad_url"),
    ({"prompt_0": "x" * 201}, "prompt_0", "too_long"),
    ({"headline": "a\u200bb"}, "headline", "control_characters"),
])
def test_bad_input_is_explained_beside_its_field(signed_in, ada, db_state, change, field, code):
    client = signed_in(ada)
    fields = page_fields(client.get("/profile").get_data(as_text=True))
    before = db_state()
    response = client.post("/profile", data={**fields, **change})
    assert response.status_code == 200
    assert field_error(response.get_data(as_text=True), field) == code
    assert form_error_codes(response.get_data(as_text=True)) == []
    assert db_state() == before


def test_a_post_without_this_sessions_csrf_token_is_refused(signed_in, ada, db_state):
    client = signed_in(ada)
    fields = page_fields(client.get("/profile").get_data(as_text=True))
    assert fields.pop("csrf_token")
    before = db_state()
    for token in ({}, {"csrf_token": "forged"}):
        response = client.post("/profile", data={**fields, **token, "name": "Forged"})
        assert response.status_code == 400 and error_codes(response.get_data(as_text=True)) == ["csrf"]
    assert db_state() == before


def test_stored_markup_is_shown_as_text(signed_in, ada):
    people.update_profile(ada, full_profile(name='<script>alert(1)</script>', headline='"><img src=x>',
                                            answers=(("Ask me about", "<b>bold</b>"),)), "ada@example.org")
    html = signed_in(saved(ada.id)).get("/profile").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def preview(html, state):
    return re.search(rf'data-state="{state}">(.*?)</article>', html, re.DOTALL).group(1)


def test_the_preview_shows_no_contacts_before_connecting_and_the_shared_ones_after(signed_in, ada):
    people.update_profile(ada, full_profile(), "ada@example.org")  # shares the e-mail, not the phone
    html = signed_in(saved(ada.id)).get("/profile").get_data(as_text=True)
    before, after = preview(html, "preview-before"), preview(html, "preview-after")
    assert "Ada Okafor" in before and "Rust" in before and "ada@example.org" not in before
    assert 'href="mailto:ada@example.org"' in after and "7946" not in after
    assert 'data-state="contacts-after-confirm"' not in html


def test_the_preview_says_contacts_wait_for_confirmation_when_asked_first(signed_in, ada):
    people.update_profile(ada, full_profile(share_on_connect=False), "ada@example.org")
    html = signed_in(saved(ada.id)).get("/profile").get_data(as_text=True)
    assert 'data-state="contacts-after-confirm"' in html


def test_the_preview_is_drawn_from_what_is_saved(signed_in, ada):
    client = signed_in(ada)
    client.post("/profile", data={"csrf_token": client.csrf_token("/profile"), "name": "Ada Saved",
                                  "email_identity": "ada@example.org"})
    assert db.session.execute(text("SELECT name FROM person WHERE id = :id"), {"id": ada.id}).scalar() == "Ada Saved"
    assert "Ada Saved" in preview(client.get("/profile").get_data(as_text=True), "preview-before")


def test_a_refused_save_sums_up_its_field_errors_above_the_form(signed_in, ada, bo):
    client = signed_in(ada)
    fields = page_fields(client.get("/profile").get_data(as_text=True))
    html = client.post("/profile", data={**fields, "email_identity": "Bo@Example.org"}).get_data(as_text=True)
    box = re.search(r'<div class="flash flash-error error-summary" role="alert"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert box and html.index("error-summary") < html.index("<form")
    assert re.findall(r'<a href="#([^"]+)" data-code="([^"]+)"', box.group(1)) == [("email_identity", "email_taken")]
