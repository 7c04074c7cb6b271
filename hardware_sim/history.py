"""Past weeks of a scenario written into a fresh ledger, so the estimate can learn as in a real hall.

A hall that has run for two months knows its Tuesdays: the arrival profile and
the counter roster are learned from the same weekday of recent weeks
(giliran.estimate_inputs). A scenario starts from an empty ledger, so
``write_history`` adds ``weeks`` past days of the same scenario with other
seeds: each customer as a finished ticket, each shift as counter events.
Rows go in with SQL in one transaction (two months in milliseconds); the
ledger is opened once first so its schema exists.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

from giliran.config import SiteConfig
from giliran.ledger import Ledger
from hardware_sim.scenario import Scenario

HISTORY_SEED = 1_000_003  # far from the seeds runs use, so no past day repeats today's customers


def write_history(path: Path, site: SiteConfig, scenario: Scenario, weeks: int) -> int:
    """Add ``weeks`` past same-weekday days of ``scenario`` to the ledger at ``path``; returns tickets written."""
    zone = site.site.zone
    Ledger(path, site, clock=lambda: scenario.at(scenario.start, zone) - 3600).close()
    prefixes = {c.id: c.prefix for c in site.categories}
    db = sqlite3.connect(path)
    written = 0
    try:
        with db:
            for week in range(1, weeks + 1):
                day = msgspec.structs.replace(scenario, date=scenario.date - dt.timedelta(weeks=week),
                                              seed=HISTORY_SEED + scenario.seed * 97 + week)
                written += _write_day(db, day, zone, prefixes)
    finally:
        db.close()
    return written


def _write_day(db: sqlite3.Connection, day: Scenario, zone: ZoneInfo, prefixes: dict[str, str]) -> int:
    iso = day.date.isoformat()
    rng = random.Random(day.seed)
    seqs: dict[str, int] = {}
    arrivals = day.arrivals_for(zone)
    for at, category in arrivals:
        seqs[category] = seqs.get(category, 0) + 1
        number = f"{prefixes[category]}{seqs[category]:03d}"
        service = day.service_s(category, rng)
        db.execute(
            "INSERT INTO tickets (day, prefix, seq, number, category, origin_category, issued_at, state,"
            " called_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'done', ?, ?)",
            (iso, prefixes[category], seqs[category], number, category, category, at, at, at + service))
    for shift in day.shifts:
        changes = [(shift.open, "counter_open")]
        for start, end in shift.pauses:
            changes += [(start, "counter_paused"), (end, "counter_open")]
        changes.append((shift.close, "counter_closed"))
        for clock, kind in changes:
            db.execute("INSERT INTO events (at, day, kind, counter, data) VALUES (?, ?, ?, ?, ?)",
                       (day.at(clock, zone), iso, kind, shift.counter, json.dumps({})))
    return len(arrivals)
