"""Mail: a queue of outgoing messages, written in the changing service's transaction and
sent later by a worker, so no page waits for a mail server."""
