"""The domain events other domains react to.

The domain that owns a change sends its signal from inside the service's transaction
(`database.transaction()`), after validating and before the commit. A receiver may add
rows of its own to the same session (an audit entry, a queued e-mail) and they commit or
roll back with the change; a receiver that raises rolls the whole change back. Receivers
never commit. Every signal is sent with the app as sender and plain ids as keywords, so
a receiver never holds another domain's objects.

    person_joined      person_id, event_id          a new person made a profile at an event
    checked_in         person_id, event_id          a person's first check-in at an event
    connection_made    connection_id, person_ids, event_id, scanner_id
    connection_removed connection_id, person_ids, removed_by   one side removed (or blocked) it
    event_opened       event_id, organizer_id
    event_closed       event_id, organizer_id
    person_deleted     person_id
"""
from blinker import Namespace

_signals = Namespace()

person_joined = _signals.signal("person-joined")
checked_in = _signals.signal("checked-in")
connection_made = _signals.signal("connection-made")
# Sent by connections.consent.remove and block, once, when the connection leaves a person's list.
connection_removed = _signals.signal("connection-removed")
event_opened = _signals.signal("event-opened")
event_closed = _signals.signal("event-closed")
person_deleted = _signals.signal("person-deleted")
