"""Private notes stay with their author; contact details wait for a connection and a share switch."""
import pytest

from kithmeet.connections import services as connections
from kithmeet.followup import services as followup


@pytest.fixture
def trio(make_event, make_person):
    event = make_event()
    ada = make_person("Ada", event=event, contacts={"email": "ada@example.org", "phone": "+44 20 7946 0958"},
                      shared={"email": True, "phone": False})
    bo = make_person("Bo", event=event, contacts={"website": "https://bo.example"})
    cy = make_person("Cy", event=event)
    return ada, bo, cy


def test_private_note_is_seen_by_its_author_only(trio, signed_in):
    ada, bo, cy = trio
    connections.connect(bo, ada.badge_token, talked_about="Shared topic", private_note="Bo's secret thought")
    connections.connect(cy, bo.badge_token)
    bo_page = signed_in(bo).get("/followup").get_data(as_text=True)
    ada_page = signed_in(ada).get("/followup").get_data(as_text=True)
    cy_client = signed_in(cy)
    assert "Bo&#39;s secret thought" in bo_page or "Bo's secret thought" in bo_page
    assert "Shared topic" in ada_page and "Shared topic" in bo_page
    for page in (ada_page, cy_client.get("/followup").get_data(as_text=True),
                 cy_client.get(f"/B/{ada.badge_token}").get_data(as_text=True),
                 signed_in(ada).get(f"/B/{bo.badge_token}").get_data(as_text=True)):
        assert "secret thought" not in page
    ada_entries = followup.followup_page(ada).entries
    assert [entry.side.private_note for entry in ada_entries] == [""]


def test_contact_fields_hidden_until_connected_then_only_shared(trio, signed_in, client):
    ada, bo, cy = trio
    assert connections.visible_contacts(bo, ada) == []
    before = signed_in(bo).get(f"/B/{ada.badge_token}").get_data(as_text=True)
    anonymous = client.get(f"/B/{ada.badge_token}").get_data(as_text=True)
    for page in (before, anonymous):
        assert "ada@example.org" not in page and "7946" not in page

    connections.connect(bo, ada.badge_token)
    assert [c.kind for c in connections.visible_contacts(bo, ada)] == ["email"]
    after = signed_in(bo).get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert "ada@example.org" in after and "7946" not in after
    # The other direction shares Bo's website with Ada; a third person still sees nothing.
    assert [c.kind for c in connections.visible_contacts(ada, bo)] == ["website"]
    assert connections.visible_contacts(cy, ada) == []
    third = signed_in(cy).get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert "ada@example.org" not in third
    ada_followup = signed_in(ada).get("/followup").get_data(as_text=True)
    assert "https://bo.example" in ada_followup


def test_only_the_two_sides_can_edit_a_connection(trio):
    ada, bo, cy = trio
    connection, _ = connections.connect(ada, bo.badge_token)
    from kithmeet.errors import NotFound

    with pytest.raises(NotFound):
        followup.update_entry(cy, connection.public_id, private_note="intruder")
    followup.update_entry(bo, connection.public_id, private_note="mine", talked_about="edited together")
    assert followup.followup_page(bo).entries[0].side.private_note == "mine"
    ada_entry = followup.followup_page(ada).entries[0]
    assert ada_entry.side.private_note == "" and ada_entry.latest.talked_about == "edited together"
