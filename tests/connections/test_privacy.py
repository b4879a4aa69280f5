"""Private notes stay with their author; contact details wait for a connection and a share switch."""
import pytest

from kithmeet.connections import contacts, notes
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


def pages_of(client, connection):
    """A person's follow-up list and the connection's own page, as one text."""
    return client.get("/followup").get_data(as_text=True) + client.get(
        f"/followup/{connection.public_id}").get_data(as_text=True)


def test_private_note_is_seen_by_its_author_only(trio, signed_in):
    ada, bo, cy = trio
    connection, _ = connections.connect(bo, ada.badge_token, talked_about="Shared topic",
                                        private_note="Bo's secret thought")
    theirs, _ = connections.connect(cy, bo.badge_token)
    bo_page = pages_of(signed_in(bo), connection)
    ada_page = pages_of(signed_in(ada), connection)
    cy_client = signed_in(cy)
    assert "Bo&#39;s secret thought" in bo_page or "Bo's secret thought" in bo_page
    assert "Shared topic" in ada_page and "Shared topic" in bo_page
    assert cy_client.get(f"/followup/{connection.public_id}").status_code == 404
    for page in (ada_page, pages_of(cy_client, theirs),
                 cy_client.get(f"/B/{ada.badge_token}").get_data(as_text=True),
                 signed_in(ada).get(f"/B/{bo.badge_token}").get_data(as_text=True)):
        assert "secret thought" not in page
    ada_entries = followup.followup_page(ada).entries
    assert [entry.side.private_note for entry in ada_entries] == [""]


def test_contact_fields_hidden_until_connected_then_only_shared(trio, signed_in, client):
    ada, bo, cy = trio
    assert contacts.visible_contacts(bo, ada) == []
    before = signed_in(bo).get(f"/B/{ada.badge_token}").get_data(as_text=True)
    anonymous = client.get(f"/B/{ada.badge_token}").get_data(as_text=True)
    for page in (before, anonymous):
        assert "ada@example.org" not in page and "7946" not in page

    connections.connect(bo, ada.badge_token)
    assert [c.kind for c in contacts.visible_contacts(bo, ada)] == ["email"]
    after = signed_in(bo).get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert "ada@example.org" in after and "7946" not in after
    # The other direction shares Bo's website with Ada; a third person still sees nothing.
    assert [c.kind for c in contacts.visible_contacts(ada, bo)] == ["website"]
    assert contacts.visible_contacts(cy, ada) == []
    third = signed_in(cy).get(f"/B/{ada.badge_token}").get_data(as_text=True)
    assert "ada@example.org" not in third
    connection = connections.connection_between(ada.id, bo.id)
    assert "https://bo.example" in pages_of(signed_in(ada), connection)


def test_a_caller_that_read_no_connection_gets_no_contacts_without_a_statement(trio, count_queries):
    ada, bo, cy = trio
    _ = ada.id, bo.id  # their rows read again after the fixture's commit, before counting
    with count_queries() as asked:
        assert contacts.visible_contacts(bo, ada, connected=False) == []
    assert asked == []


def test_only_the_two_sides_can_edit_a_connection(trio):
    ada, bo, cy = trio
    connection, _ = connections.connect(ada, bo.badge_token)
    from kithmeet.errors import NotFound

    with pytest.raises(NotFound):
        notes.edit(cy, connection.public_id, private_note="intruder")
    notes.edit(bo, connection.public_id, private_note="mine", talked_about="edited together")
    assert followup.followup_page(bo).entries[0].side.private_note == "mine"
    ada_entry = followup.followup_page(ada).entries[0]
    assert ada_entry.side.private_note == "" and ada_entry.latest.talked_about == "edited together"


def test_followup_page_shows_connections_only_their_shared_contacts(trio, signed_in, client):
    ada, bo, cy = trio  # Ada shares her email, not her phone
    bo_ada, _ = connections.connect(bo, ada.badge_token)
    cy_bo, _ = connections.connect(cy, bo.badge_token)  # Cy knows Bo, not Ada
    phone = ("20 7946 0958", "2079460958")  # as written, and as a tel: link would carry it
    bo_client, cy_client = signed_in(bo), signed_in(cy)

    bo_page = bo_client.get(f"/followup/{bo_ada.public_id}")
    assert bo_page.status_code == 200
    assert "ada@example.org" in bo_page.get_data(as_text=True)
    assert cy_client.get("/followup").get_data(as_text=True).count('class="followup-entry"') == 1
    cy_page = cy_client.get(f"/followup/{cy_bo.public_id}")
    assert cy_page.status_code == 200 and "https://bo.example" in cy_page.get_data(as_text=True)  # Bo shares his

    pages = {"Bo": bo_client, "Cy": cy_client, "a visitor": client}
    own = {"Bo": [bo_ada, cy_bo], "Cy": [cy_bo], "a visitor": []}
    for viewer, viewer_client in pages.items():
        paths = (["/followup"] + [f"/followup/{c.public_id}" for c in own[viewer]]
                 + [f"/B/{person.badge_token}" for person in (ada, bo, cy)])
        for path in paths:
            response = viewer_client.get(path)
            if viewer == "a visitor" and path == "/followup":
                assert response.status_code == 302  # nothing to show without signing in
                continue
            assert response.status_code == 200, (viewer, path)
            html = response.get_data(as_text=True)
            assert not any(part in html for part in phone), f"Ada's unshared phone on {path} for {viewer}"
            if viewer != "Bo":
                assert "ada@example.org" not in html, f"Ada's email on {path} for {viewer}, not connected to her"
