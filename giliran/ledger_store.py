"""The ledger's storage: opening the SQLite file, its schema versions and migrations, backups, records.

The schema's triggers keep the event log append-only; the CHECK on ``state``
keeps every ticket in exactly one known state.

Schema versions live in ``PRAGMA user_version``. A ledger written by an
older Giliran is upgraded when it is opened: first a backup next to it
(``<ledger>.v<old>.bak``, SQLite's online backup), then every missing
migration in order, in one transaction with the new version number, so a
power cut leaves either the old ledger or the upgraded one. A ledger newer
than this code is refused, untouched. Migrations only add (tables, columns,
indexes) or rebuild a table keeping every row; they never drop a ticket or
an event.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from giliran import ledger_io
from giliran.errors import LedgerError

log = logging.getLogger(__name__)

#: The first released schema (Giliran up to 0.1: no user_version, "v0"). Migration 1 creates it.
SCHEMA_V1 = """
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
class Migration:
    """One step up the schema: ``version`` is the user_version the ledger has after it."""

    version: int
    why: str
    sql: str


MIGRATIONS = (
    Migration(1, "the first released schema (a ledger written before schema versions already has it)", SCHEMA_V1),
    Migration(2, "indexes that keep every queue step and the board build bounded to today, not to history", """
        CREATE INDEX tickets_queue ON tickets (state, category, id);
        CREATE INDEX tickets_served ON tickets (state, category, finished_at);
        DROP INDEX tickets_open;
        CREATE INDEX events_calls ON events (kind, category, at);
        CREATE INDEX events_day ON events (day, kind, seq);
    """),
)
VERSION = MIGRATIONS[-1].version


def open_db(path: Path) -> sqlite3.Connection:
    """Open (or create) a ledger file, durable settings on, upgraded to this code's schema.

    Disk failures (full, read-only, I/O errors, a damaged file) raise StorageFault
    naming the file; see giliran/ledger_io.py.
    """
    db = ledger_io.connect(path)
    try:
        with ledger_io.guarded(path):  # the backup before a migration writes through other connections
            migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, path: Path, on_backup: Callable[[Path], None] | None = None) -> int:
    """Bring the ledger to VERSION: back up an existing ledger first, then run the missing migrations.

    Returns the version found. All steps and the new user_version commit together.
    """
    found = schema_version(db)
    if found > VERSION:
        raise LedgerError("ledger_too_new", f"{path} has ledger schema v{found}; this Giliran knows up to"
                                            f" v{VERSION}: install the newer Giliran (or restore a backup)")
    if found == VERSION:
        return found
    has_data = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'tickets'").fetchone() is not None
    if has_data:
        copy = _backup_path(path, found)
        tickets = backup(path, copy)
        log.warning("ledger %s: schema v%d -> v%d; backup of %d tickets in %s", path, found, VERSION, tickets, copy)
        if on_backup is not None:
            on_backup(copy)
    db.execute("BEGIN IMMEDIATE")
    try:
        for step in MIGRATIONS:
            if step.version > found:
                for statement in _statements(step.sql):
                    db.execute(statement)
        db.execute(f"PRAGMA user_version = {VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return found


def _backup_path(path: Path, version: int) -> Path:
    copy = path.with_name(f"{path.name}.v{version}.bak")
    n = 1
    while copy.exists():  # an earlier upgrade's backup is never overwritten
        copy = path.with_name(f"{path.name}.v{version}.{n}.bak")
        n += 1
    return copy


def _statements(script: str) -> list[str]:
    """Split a script into statements (executescript would commit the open transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement: {current.strip()[:80]}")
    return statements


def backup(source: Path, target: Path) -> int:
    """Copy a live ledger consistently (SQLite's online backup; WAL included); returns the tickets copied.

    Safe while the kiosk runs: the copy is a snapshot of one committed state.
    """
    if not source.exists():
        raise LedgerError("no_ledger", f"no ledger at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        return int(dst.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
    finally:
        dst.close()
        src.close()


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
    """A category on the boards; ``opens_at`` when its counters open later, ``no_counter`` when none will today."""

    category: str
    waiting: int
    est_wait_s: float | None
    available: bool
    opens_at: float | None = None
    no_counter: bool = False


def ticket_from_row(row: sqlite3.Row) -> Ticket:
    return Ticket(
        id=row["id"], number=row["number"], category=row["category"], origin_category=row["origin_category"],
        state=row["state"], day=row["day"], issued_at=row["issued_at"], counter=row["counter"],
        called_at=row["called_at"], ahead=row["ahead"], est_wait_s=row["est_wait_s"], promoted=bool(row["promoted"]),
    )
