"""Ledger benchmark: durable operations per second against bare SQLite, the "next" round trip,
and the cost of each queue step with three years of history against a fresh ledger.

Run: ``.venv/bin/python -m bench.ledger`` (starts its own Mosquitto on a loopback port).
Both rates are measured in the same run, so their ratio means something on a noisy machine.

The history column: a ledger pre-filled (in SQL, not through the API: about a
minute, see ``bench.ledger_history``) with ``--history-days`` service days of
``--per-day`` tickets and four events each (defaults: about 3 years, 1 M
tickets, 4 M events), and a fresh ledger, both driven by the same steps in
turn (one on each, alternately, so the machine's mood hits both alike):
reserve + confirm, Next (the counters in turn) and building the board state,
with about 30 people waiting.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import msgspec

from bench.common import print_table, summary_ms
from bench.ledger_history import HistoryRun, history_vs_fresh
from counter.commands import CounterClient
from giliran.config import SiteConfig, load_site
from giliran.ledger import Ledger
from giliran.mqtt import MqttNode
from hardware_sim.broker import LocalBroker
from kiosk.service import LedgerService

ROOT = Path(__file__).resolve().parents[1]


def open_all_day(site: SiteConfig) -> SiteConfig:
    hours = msgspec.structs.replace(site.hours, open="00:00", close="23:59",
                                    days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    cats = [msgspec.structs.replace(c, hours=None, quota=None) for c in site.categories]
    return msgspec.structs.replace(site, hours=hours, categories=cats)


def bare_sqlite_rate(path: Path, n: int) -> float:
    """Durable single-row inserts per second: WAL, synchronous=FULL, one transaction each."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, number TEXT, at REAL)")
    start = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (number, at) VALUES (?, ?)", (f"A{i:03d}", time.time()))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return n / elapsed


def ledger_rate(path: Path, site: SiteConfig, n: int) -> float:
    """Durable ledger operations per second: reserve, confirm and next, each one transaction."""
    categories = [c.id for c in site.categories]
    ops = 0
    with Ledger(path, site, time.time) as ledger:
        start = time.perf_counter()
        i = 0
        while ops < n:
            ticket = ledger.reserve(categories[i % len(categories)])
            ledger.confirm(ticket.id)
            ops += 2
            if i % 2:
                ledger.next(6)
                ops += 1
            i += 1
        elapsed = time.perf_counter() - start
    return ops / elapsed


def next_round_trips(site: SiteConfig, workdir: Path, n: int) -> list[float]:
    """Counter "next" published → reply received, through a real Mosquitto, n times."""
    with LocalBroker(site, workdir / "broker") as broker:
        ledger = Ledger(workdir / "rt.sqlite", broker.site, time.time)
        kiosk = MqttNode(broker.site, "kiosk", "kiosk", broker.credentials("kiosk"))
        service = LedgerService(ledger, kiosk)
        kiosk.start()
        kiosk.wait_connected(5)
        for _ in range(n + 10):
            ledger.confirm(ledger.reserve("mykad").id)
        samples = []
        try:
            with CounterClient(broker.site, 2, broker.credentials("counter-2")) as client:
                for i in range(n + 10):
                    start = time.perf_counter()
                    reply = client.command("next")
                    elapsed = time.perf_counter() - start
                    assert reply.ok, reply
                    if i >= 10:  # warm-up
                        samples.append(elapsed)
        finally:
            service.close()
            kiosk.stop()
            ledger.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--round-trips", type=int, default=500)
    parser.add_argument("--history-days", type=int, default=940, help="service days of history (940: ~3 years)")
    parser.add_argument("--per-day", type=int, default=1068, help="tickets per history day (a multiple of 6)")
    parser.add_argument("--steps", type=int, default=1000, help="queue steps measured on each ledger")
    args = parser.parse_args()
    site = open_all_day(load_site(ROOT / "examples" / "site.toml"))
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").exists() else None) as tmp:
        work = Path(tmp)
        bare = bare_sqlite_rate(work / "bare.sqlite", args.ops)
        rate = ledger_rate(work / "ledger.sqlite", site, args.ops)
        trips = summary_ms(next_round_trips(site, work, args.round_trips))
        history = history_vs_fresh(site, work, args.history_days, args.per_day, args.steps)
    print_table("Ledger (bench/ledger.py)", [
        ("bare SQLite durable inserts/s (same run)", f"{bare:,.0f}", "—"),
        ("durable ledger operations/s (reserve, confirm, next)", f"{rate:,.0f}", ">= 2,000"),
        ("ledger rate / bare SQLite rate", f"{rate / bare:.2f}", ">= 0.50"),
        (f"counter 'next' round trip over Mosquitto, p50 ({args.round_trips} calls)", f"{trips['p50']:.2f} ms", "—"),
        ("counter 'next' round trip, p99", f"{trips['p99']:.2f} ms", "<= 5 ms"),
        ("counter 'next' round trip, max", f"{trips['max']:.2f} ms", "—"),
    ])
    print_history(history, args.steps)


def print_history(run: HistoryRun, steps: int) -> None:
    print(f"\n### Ledger with history: {run.tickets:,} tickets and {run.events:,} events over {run.days} service"
          f" days against a fresh ledger, {steps} steps each (bench/ledger.py)\n")
    print("| step | fresh p50 | history p50 | fresh p99 | history p99 | p99 history / fresh | target |")
    print("|---|---|---|---|---|---|---|")
    for step, target in (("reserve + confirm", "<= 1.5x"), ("next", "<= 1.5x"),
                         ("board build", "<= 1.5x, history p99 <= 20 ms")):
        fresh, old = summary_ms(run.fresh[step]), summary_ms(run.history[step])
        print(f"| {step} | {fresh['p50']:.2f} ms | {old['p50']:.2f} ms | {fresh['p99']:.2f} ms"
              f" | {old['p99']:.2f} ms | {old['p99'] / fresh['p99']:.2f}x | {target} |")
    print(f"| history written in SQL ({run.size_mb:,.0f} MB) | — | {run.fill_s:.0f} s | — | — | — | — |")


if __name__ == "__main__":
    main()
