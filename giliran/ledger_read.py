"""The ledger's read models: the queries behind the board, the loads and the counters.

Queries only (the write path is giliran.ledger), each bounded to today's
queue or a recent window by the indexes of ledger_store's migration 2, so a
board build costs the same with three years of history as on the first day
(bench/ledger.py measures it; the estimate's inputs are giliran.estimate_inputs):

- open tickets through ``tickets_queue (state, category, id)``, in issue
  order (the id), never by a clock reading;
- today's calls through ``events_day (day, kind, seq)``.

The caller (the Ledger) holds its lock and passes the site, the service day
and the ledger time.
"""

from __future__ import annotations

import sqlite3

from giliran.config import SiteConfig
from giliran.errors import LedgerError
from giliran.ledger_store import Call, CounterRow, Ticket, ticket_from_row

CALL_KINDS = ("called", "recalled")
_NO_ID = 2**63 - 1


class LedgerReads:
    """Read-only queries over the ledger's connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def ticket(self, ticket_id: int) -> Ticket:
        row = self._db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise LedgerError("no_ticket", f"no ticket with id {ticket_id}")
        return ticket_from_row(row)

    def find(self, day: str, number: str) -> Ticket | None:
        row = self._db.execute("SELECT * FROM tickets WHERE day = ? AND number = ?", (day, number.upper())).fetchone()
        return ticket_from_row(row) if row else None

    def waiting(self, category_id: str | None = None) -> list[Ticket]:
        """Waiting tickets in issue order (all categories, or one)."""
        if category_id is None:
            rows = self._db.execute("SELECT * FROM tickets WHERE state = 'waiting' ORDER BY id")
        else:
            rows = self._db.execute("SELECT * FROM tickets WHERE state = 'waiting' AND category = ? ORDER BY id",
                                    (category_id,))
        return [ticket_from_row(r) for r in rows]

    def waiting_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM tickets WHERE state = 'waiting'").fetchone()[0])

    def waiting_ahead(self, category_id: str, before: int | None = None) -> int:
        """Waiting tickets of a category issued before ticket ``before`` (all by default)."""
        return int(self._db.execute(
            "SELECT COUNT(*) FROM tickets WHERE state = 'waiting' AND category = ? AND id < ?",
            (category_id, before if before is not None else _NO_ID),
        ).fetchone()[0])

    def head(self, category_id: str) -> sqlite3.Row | None:
        """The first waiting ticket of a category (the only one the calling rule may pick from it)."""
        return self._db.execute(
            "SELECT id, category, issued_at FROM tickets WHERE state = 'waiting' AND category = ?"
            " ORDER BY id LIMIT 1", (category_id,)).fetchone()

    def has_waiting(self, category_id: str) -> bool:
        return self.head(category_id) is not None

    def waiting_categories(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT DISTINCT category FROM tickets WHERE state = 'waiting'")}

    def issued(self, day: str, prefix: str) -> int:
        """The last number issued for a prefix on a service day (0 before the first)."""
        row = self._db.execute("SELECT MAX(seq) FROM tickets WHERE day = ? AND prefix = ?", (day, prefix)).fetchone()
        return int(row[0] or 0)

    def counter(self, site: SiteConfig, counter: int) -> CounterRow:
        row = self._db.execute("SELECT * FROM counters WHERE id = ?", (counter,)).fetchone()
        if row is None or not any(c.id == counter for c in site.counters):
            raise LedgerError("unknown_counter", f"no counter {counter} at site {site.site.id}")
        serving = self.ticket(row["current_ticket"]) if row["current_ticket"] else None
        return CounterRow(counter, row["state"], serving)

    def passes(self) -> dict[str, float]:
        return {r["category"]: r["pass"] for r in self._db.execute("SELECT category, pass FROM passes")}

    def recent_calls(self, day: str, limit: int) -> list[Call]:
        rows = self._db.execute(
            "SELECT seq, ticket, counter, category, at, kind FROM events WHERE day = ? AND kind IN (?, ?)"
            " ORDER BY seq DESC LIMIT ?", (day, *CALL_KINDS, limit)).fetchall()
        return [Call(r["seq"], r["ticket"], r["counter"], r["category"], r["at"], r["kind"] == "recalled")
                for r in rows]

    def events(self, after: int, limit: int) -> list[sqlite3.Row]:
        return self._db.execute("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)).fetchall()
