"""The ledger's invariants, checked on the raw SQLite file: shared by the property tests and the upgrade test."""

from __future__ import annotations

import sqlite3


def check_invariants(db: sqlite3.Connection) -> None:
    """Raise AssertionError naming the first broken invariant."""
    rows = db.execute("SELECT day, number FROM tickets").fetchall()
    assert len(rows) == len({(r[0], r[1]) for r in rows}), "a number was issued twice in a day"
    states = dict(db.execute("SELECT id, state FROM tickets").fetchall())
    serving = [r[0] for r in db.execute("SELECT current_ticket FROM counters WHERE current_ticket IS NOT NULL")]
    assert len(serving) == len(set(serving)), "a ticket at two counters"
    assert {i for i, s in states.items() if s == "called"} == set(serving), "called = being served somewhere"
    issued = {(r[0], r[1]) for r in db.execute(
        "SELECT day, number FROM tickets WHERE state NOT IN ('printing', 'voided')")}
    # A ticket carried into a new service day (its clock was set forward) has a 'carried' event of that day.
    logged = {(r[0], r[1]) for r in db.execute("SELECT day, ticket FROM events WHERE kind IN ('issued', 'carried')")}
    assert issued <= logged, f"issued without an event: {sorted(issued - logged)[:5]}"
