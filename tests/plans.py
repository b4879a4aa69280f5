"""The statements a piece of code runs, and how the database plans them: for the tests that a hot
read is served by its index, on SQLite and on PostgreSQL."""
from contextlib import contextmanager

from sqlalchemy import event as sa_event

from kithmeet.extensions import db


@contextmanager
def statements_run(keep=None):
    """Collects (statement, parameters) of every statement run inside the block (those `keep`
    accepts, given the SQL)."""
    seen = []

    def listener(_conn, _cursor, statement, parameters, *_):
        if keep is None or keep(statement):
            seen.append((statement, parameters))
    sa_event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", listener)


def plan(statement, parameters):
    """The plan, its lines joined by " | ": SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN
    with sequential scans off (a test's tables are tiny, so the planner would rightly read them
    whole; with that choice taken away it shows which index serves each table). Roll the
    session back after it."""
    connection = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        return " | ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                          parameters))
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return " | ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
