"""Three years of ledger history, written in SQL, and the queue steps timed on it and on a fresh ledger.

The history is what a busy hall leaves behind: every service day, tickets of
every category issued through the day, called, served (some no-shows,
voided, expired, rated), four events each. It is written straight into the
ledger's tables by one SQL statement per table (a recursive CTE), in seconds,
with the indexes dropped during the load and built again after it, as the
schema's migrations made them. Then both ledgers are opened the next morning
and driven alike.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from giliran.config import SiteConfig
from giliran.errors import LedgerError
from giliran.ledger import Ledger
from kiosk.board_state import board_state

STEPS = ("reserve + confirm", "next", "board build")
#: Tickets waiting when the timing starts; each step issues one and calls one, so the queue stays about this long.
QUEUE = 30
#: The morning the benchmark runs, the day after the history.
TODAY = dt.date(2026, 11, 24)


@dataclass
class HistoryRun:
    days: int
    tickets: int
    events: int
    fill_s: float
    size_mb: float
    fresh: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    history: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})


def fill_history(path: Path, site: SiteConfig, days: int, per_day: int) -> tuple[int, int]:
    """Write ``days`` service days of ``per_day`` tickets before TODAY into a new ledger; returns (tickets, events)."""
    zone = site.site.zone
    first = TODAY - dt.timedelta(days=days)
    Ledger(path, site, lambda: dt.datetime.combine(first, dt.time(7, 0), zone).timestamp()).close()  # the schema
    cats = site.categories
    cat_values = ", ".join(f"({n}, '{c.id}', '{c.prefix}')" for n, c in enumerate(cats))
    start = dt.datetime.combine(first, dt.time(0, 0), zone).timestamp()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
        db.execute("BEGIN")
        for name, _sql in indexes:
            db.execute(f"DROP INDEX {name}")
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {days * per_day - 1}),
            cats(n, id, prefix) AS (VALUES {cat_values}),
            t AS (SELECT i, i / {per_day} AS d, i % {per_day} AS k,
                         {start} + (i / {per_day}) * 86400 + 8 * 3600 + (i % {per_day}) * 30 AS at FROM n)
            INSERT INTO tickets (id, day, prefix, seq, number, category, origin_category, issued_at, state,
                                 counter, called_at, finished_at, ahead, est_wait_s, promoted, rating)
            SELECT i + 1, date('{first.isoformat()}', '+' || d || ' days'), c.prefix, k / {len(cats)} + 1,
                   c.prefix || printf('%03d', k / {len(cats)} + 1), c.id, c.id, at,
                   CASE WHEN i % 89 = 0 THEN 'voided' WHEN i % 97 = 0 THEN 'expired'
                        WHEN i % 25 = 0 THEN 'no_show' ELSE 'done' END,
                   1 + i % 6, at + 600, at + 900, k % 20, 600.0, 0, CASE WHEN i % 7 = 0 THEN 'good' END
            FROM t JOIN cats c ON c.n = t.k % {len(cats)}""")
        db.execute("""
            WITH k(n, kind) AS (VALUES (0, 'reserved'), (1, 'issued'), (2, 'called'), (3, 'finished'))
            INSERT INTO events (at, day, kind, ticket, category, counter, data)
            SELECT CASE k.n WHEN 0 THEN t.issued_at WHEN 1 THEN t.issued_at WHEN 2 THEN t.called_at
                            ELSE t.finished_at END,
                   t.day, CASE k.n WHEN 3 THEN t.state ELSE k.kind END, t.number, t.category,
                   CASE WHEN k.n >= 2 THEN t.counter END,
                   CASE k.n WHEN 2 THEN '{"promoted": false, "waited_s": 600}'
                            WHEN 3 THEN '{"service_s": 300}' ELSE '{}' END
            FROM tickets t CROSS JOIN k ORDER BY t.id, k.n""")
        for _name, sql in indexes:
            db.execute(sql)
        last_day = (TODAY - dt.timedelta(days=1)).isoformat()
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('day', ?)", (last_day,))
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
        tickets = db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        db.close()
    return tickets, events


def _timed(samples: list[float], step: Callable[[], object]) -> None:
    start = time.perf_counter()
    step()
    samples.append(time.perf_counter() - start)


def _step(ledger: Ledger, samples: dict[str, list[float]], i: int, categories: list[str]) -> None:
    """A busy hall's minute: a customer takes a ticket, a counter (each in turn) calls, the boards follow."""
    def issue() -> None:
        ledger.confirm(ledger.reserve(categories[i % len(categories)]).id)

    _timed(samples["reserve + confirm"], issue)
    counters = [c.id for c in ledger.site.counters]
    try:
        _timed(samples["next"], lambda: ledger.next(counters[i % len(counters)]))
    except LedgerError:  # nobody waiting for that counter's services: no sample
        pass
    _timed(samples["board build"], lambda: board_state(ledger))


def history_vs_fresh(site: SiteConfig, workdir: Path, days: int, per_day: int, steps: int) -> HistoryRun:
    """Fill a history ledger, then run the same steps on it and on a fresh one, alternately."""
    old = workdir / "history.sqlite"
    started = time.perf_counter()
    tickets, events = fill_history(old, site, days, per_day)
    run = HistoryRun(days, tickets, events, time.perf_counter() - started, old.stat().st_size / 1e6)
    base = dt.datetime.combine(TODAY, dt.time(9, 0), site.site.zone).timestamp()
    t0 = time.perf_counter()

    def clock() -> float:
        return base + (time.perf_counter() - t0)

    categories = [c.id for c in site.categories]
    with Ledger(workdir / "fresh.sqlite", site, clock) as fresh, Ledger(old, site, clock) as history:
        for ledger in (fresh, history):
            for i in range(QUEUE):
                ledger.confirm(ledger.reserve(categories[i % len(categories)]).id)
        for i in range(steps):
            pair = ((fresh, run.fresh), (history, run.history))
            for ledger, samples in pair if i % 2 else reversed(pair):
                _step(ledger, samples, i, categories)
    return run
