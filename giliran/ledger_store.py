"""The ledger's storage: the SQLite schema and the records read from it.

The schema's triggers keep the event log append-only; the CHECK on ``state``
keeps every ticket in exactly one known state.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,
    prefix TEXT NOT NULL,
    seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    category TEXT NOT NULL,
    origin_category TEXT NOT NULL,
    issued_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('printing', 'waiting', 'called', 'done', 'no_show', 'voided', 'expired')),
    counter INTEGER,
    called_at REAL,
    finished_at REAL,
    ahead INTEGER,
    est_wait_s REAL,
    promoted INTEGER NOT NULL DEFAULT 0,
    rating TEXT,
    UNIQUE (day, prefix, seq)
);
CREATE INDEX IF NOT EXISTS tickets_open ON tickets (state, category, issued_at);
CREATE TABLE IF NOT EXISTS counters (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('open', 'paused', 'closed')),
    current_ticket INTEGER REFERENCES tickets (id),
    last_served INTEGER REFERENCES tickets (id)
);
CREATE TABLE IF NOT EXISTS passes (category TEXT PRIMARY KEY, pass REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    ticket TEXT,
    category TEXT,
    counter INTEGER,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, seq);
CREATE TRIGGER IF NOT EXISTS events_append_only_u BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_d BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""


@dataclass(frozen=True)
class Ticket:
    id: int
    number: str
    category: str
    origin_category: str
    state: str
    day: str
    issued_at: float
    counter: int | None
    called_at: float | None
    ahead: int | None
    est_wait_s: float | None
    promoted: bool


@dataclass(frozen=True)
class Call:
    """One row of the call history: ``call_id`` is the event's sequence number."""

    call_id: int
    number: str
    counter: int
    category: str
    at: float
    recall: bool


@dataclass(frozen=True)
class CounterRow:
    id: int
    state: str
    serving: Ticket | None


@dataclass(frozen=True)
class CategoryLoad:
    category: str
    waiting: int
    est_wait_s: float | None
    available: bool


def ticket_from_row(row: sqlite3.Row) -> Ticket:
    return Ticket(
        id=row["id"], number=row["number"], category=row["category"], origin_category=row["origin_category"],
        state=row["state"], day=row["day"], issued_at=row["issued_at"], counter=row["counter"],
        called_at=row["called_at"], ahead=row["ahead"], est_wait_s=row["est_wait_s"], promoted=bool(row["promoted"]),
    )
