"""Shared by the fault tests: what the ledger says the boards should show, and what a board state shows.

Both sides are reduced to the same plain dict, so a test compares them with ``==``
and a failure prints both. The ledger side is read with plain SQL on a read-only
connection (WAL lets it read while the kiosk writes), not through the kiosk's own
board-building code, so it is an independent oracle.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from giliran.protocol import BoardState

Summary = dict[str, Any]


def ledger_summary(path: Path) -> Summary:
    """Waiting tickets per category, each counter's state and ticket, and the newest call, from the ledger file."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        waiting = dict(db.execute("SELECT category, COUNT(*) FROM tickets WHERE state = 'waiting' GROUP BY category"))
        counters = {cid: (state, number) for cid, state, number in db.execute(
            "SELECT c.id, c.state, t.number FROM counters c LEFT JOIN tickets t ON t.id = c.current_ticket")}
        newest = db.execute("SELECT ticket, counter FROM events WHERE kind IN ('called', 'recalled')"
                            " ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        db.close()
    return {"waiting": waiting, "counters": counters, "newest_call": tuple(newest) if newest else None}


def board_summary(state: BoardState) -> Summary:
    """The same facts as a board shows them."""
    newest = max(state.calls, key=lambda c: c.call_id, default=None)
    return {
        "waiting": {c.id: c.waiting for c in state.categories if c.waiting},
        "counters": {c.id: (c.state, c.serving) for c in state.counters},
        "newest_call": (newest.number, newest.counter) if newest else None,
    }


@pytest.fixture
def summaries() -> tuple[Callable[[Path], Summary], Callable[[BoardState], Summary]]:
    """``(ledger_summary, board_summary)``."""
    return ledger_summary, board_summary
