"""What the API answers: plain dicts built from what the services return, the shapes that
openapi.py documents. Nothing here queries more than the entries passed in already hold, so a
page of the list costs what followup_page costs, whatever its length. Times are UTC with a Z."""
from flask import url_for

from ..people.profile import shared_contacts
from ..tokens import grouped


def instant(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment is not None else None


def day(value):
    return value.isoformat() if value is not None else None


def _prompts(person):
    return [{"label": answer.prompt, "answer": answer.answer} for answer in person.answers if answer.answer]


def _encounter(encounter):
    event = encounter.event
    return {"event": {"id": event.public_id, "name": event.name} if event is not None else None,
            "met_at": instant(encounter.created_at), "talked_about": encounter.talked_about}


def _url(entry):
    return url_for("followup.connection", public_id=entry.connection.public_id, _external=True)


def connection_summary(entry):
    """One row of the list: the other person's name and headline, the latest line, one's own
    status and note (the list loads no more of the person than that)."""
    other = entry.other
    return {
        "id": entry.connection.public_id,
        "state": entry.state,
        "person": {"name": other.name, "headline": other.headline} if other is not None else None,
        "status": entry.status,
        "snoozed_until": day(entry.side.snoozed_until) if entry.status == "snoozed" else None,
        "private_note": entry.side.private_note,
        "talked_about": entry.shared_text,
        "last_met_at": instant(entry.connection.last_met_at),
        "times_met": entry.times_met,
        "url": _url(entry),
    }


def connection_detail(entry):
    """One connection as its person sees it: the card, the contacts connections/contacts.py lets
    them see, every encounter, their own status and note, and the fingerprint of the line a
    PATCH replaces."""
    other = entry.other
    person = None
    if other is not None:
        person = {"name": other.name, "pronouns": other.pronouns, "headline": other.headline,
                  "prompts": _prompts(other)}
    return {
        **connection_summary(entry),
        "person": person,
        "contacts": [{"kind": field.kind, "label": field.label, "value": field.value} for field in entry.contacts],
        "talked_about_fingerprint": entry.shared_text_fingerprint,
        "encounters": [_encounter(encounter) for encounter in entry.encounters],
    }


def me(person, event):
    """The person's own profile: every contact field of theirs, with whether they switched it on
    (people.profile decides; what another person sees is connections/contacts.py's rule)."""
    switched_on = {field.kind for field in shared_contacts(person)}
    return {
        "name": person.name,
        "pronouns": person.pronouns,
        "headline": person.headline,
        "badge": {"token": person.badge_token, "code": grouped(person.badge_token),
                  "url": url_for("connections.scan", token=person.badge_token, _external=True)},
        "contacts": [{"kind": field.kind, "label": field.label, "value": field.value,
                      "shared": field.kind in switched_on} for field in person.contacts],
        "prompts": _prompts(person),
        "share_on_connect": person.share_on_connect,
        "event": {"id": event.public_id, "name": event.name, "status": event.status} if event is not None else None,
    }


def scan(row, created=None):
    """A scan; `created`: whether this request made the connection (by default, whether the scan did)."""
    return {"client_id": row.client_id, "undone": row.undone_at is not None,
            "created": bool(row.made_connection if created is None else created),
            "scanned_at": instant(row.scanned_at or row.created_at)}
