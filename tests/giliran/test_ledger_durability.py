"""kill -9 a process writing the ledger at random moments: nothing lost, nothing repeated."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

KILLS = 50
HERE = Path(__file__).resolve().parent


def _run_and_kill(ledger: Path, base: float, wall_start: float, delay: float) -> list[tuple[str, str]]:
    proc = subprocess.Popen([sys.executable, str(HERE / "ledger_writer.py"), str(ledger), str(base), str(wall_start)],
                            stdout=subprocess.PIPE, text=True, cwd=HERE.parents[1])
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    timer = threading.Timer(delay, lambda: os.kill(proc.pid, signal.SIGKILL))
    timer.start()
    reported = [tuple(line.split()) for line in proc.stdout]
    proc.wait(10)
    timer.cancel()
    assert proc.returncode == -signal.SIGKILL
    # A line cut by the kill mid-write is not a report.
    return [r for r in reported if len(r) == 2]  # type: ignore[misc]


@pytest.mark.slow
def test_kill_minus_9_loses_nothing_and_repeats_no_number(tmp_path: Path, site) -> None:  # type: ignore[no-untyped-def]
    ledger = tmp_path / "ledger.sqlite"
    base = dt.datetime(2026, 11, 24, 9, 0, tzinfo=site.site.zone).timestamp()
    wall_start = time.time()
    rng = random.Random(20261124)
    issued: list[str] = []
    called: list[str] = []
    for _ in range(KILLS):
        for kind, number in _run_and_kill(ledger, base, wall_start, rng.uniform(0.0, 0.25)):
            (issued if kind == "ISSUED" else called).append(number)
    db = sqlite3.connect(ledger)
    try:
        rows = db.execute("SELECT number, state FROM tickets").fetchall()
        states = dict(rows)
        assert len(rows) == len(states), "a number was issued twice"
        lost = [n for n in issued if states.get(n) in (None, "voided", "printing")]
        assert lost == [], f"reported as issued but lost: {lost}"
        call_events = {r[0] for r in db.execute("SELECT ticket FROM events WHERE kind = 'called'")}
        assert set(called) <= call_events, "a reported call is missing from the event log"
        assert len(set(issued)) == len(issued)
        voided = sum(1 for s in states.values() if s == "voided")
    finally:
        db.close()
    print(f"\nkill -9 durability: kills={KILLS} tickets={len(issued)} calls={len(called)} "
          f"voided-at-restart={voided} lost=0 repeated=0")
    assert len(issued) > KILLS, "the writer must get work done between kills"
