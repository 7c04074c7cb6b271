"""Estimate benchmark: CPU per ticket estimate and per board refresh, through a peak morning.

Run: ``.venv/bin/python -m bench.estimate`` (no broker: the ledger alone).
The ledger holds 8 past weeks of the scenario (as a hall would) and replays
its arrivals; counters call as they come free. At every arrival it measures,
in CPU time of this process: the estimate a new ticket prints (reading the
inputs from the ledger, then the median of 21 sampled forward runs) and a
board refresh (``Ledger.loads``: one deterministic run per category, with the
cache emptied first, so each refresh pays in full).
"""

from __future__ import annotations

import argparse
import heapq
import random
import tempfile
import time
from pathlib import Path

from bench.common import print_table, summary_ms
from giliran.config import load_site
from giliran.errors import LedgerError
from giliran.ledger import Ledger
from hardware_sim.history import write_history
from hardware_sim.scenario import load_scenario, with_roster

ROOT = Path(__file__).resolve().parents[1]
TARGET_TICKET_P99_MS = 15.0


def measure(scenario_path: Path, weeks: int) -> tuple[list[float], list[float], int]:
    """CPU seconds of each ticket estimate and each board refresh, and the most tickets seen waiting."""
    scenario = load_scenario(scenario_path)
    site = with_roster(load_site(ROOT / "examples" / "site.toml"), scenario)
    zone = site.site.zone
    ticket_s: list[float] = []
    board_s: list[float] = []
    most = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.sqlite"
        write_history(path, site, scenario, weeks)
        now = [scenario.at(scenario.start, zone)]
        rng = random.Random(scenario.seed)
        free: list[tuple[float, int]] = [(scenario.at(s.open, zone), s.counter) for s in scenario.shifts]
        heapq.heapify(free)
        with Ledger(path, site, clock=lambda: now[0]) as ledger:
            for at, category in scenario.arrivals_for(zone):
                while free and free[0][0] <= at:
                    t, counter = heapq.heappop(free)
                    now[0] = max(now[0], t)
                    try:
                        called = ledger.next(counter)
                    except LedgerError:
                        heapq.heappush(free, (at, counter))  # nobody for it yet: look again at the next arrival
                        break
                    heapq.heappush(free, (now[0] + scenario.service_s(called.category, rng), counter))
                now[0] = max(now[0], at)
                if ledger.availability(category) is not None:
                    continue
                start = time.process_time()
                ledger._estimate(category)
                ticket_s.append(time.process_time() - start)
                ledger._board_cache = None
                start = time.process_time()
                ledger.loads()
                board_s.append(time.process_time() - start)
                ledger.confirm(ledger.reserve(category).id)
                most = max(most, ledger.waiting_count())
    return ticket_s, board_s, most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "examples" / "scenarios" / "peak-morning.toml"))
    parser.add_argument("--history-weeks", type=int, default=8)
    args = parser.parse_args()
    ticket_s, board_s, most = measure(Path(args.scenario), args.history_weeks)
    ticket, board = summary_ms(ticket_s), summary_ms(board_s)
    print_table(f"Estimated wait, CPU per call ({len(ticket_s)} tickets, up to {most} waiting)", [
        ("ticket estimate p50", f"{ticket['p50']:.2f} ms", ""),
        ("ticket estimate p99", f"{ticket['p99']:.2f} ms", f"<= {TARGET_TICKET_P99_MS:g} ms"),
        ("board refresh p50 (every category)", f"{board['p50']:.2f} ms", ""),
        ("board refresh p99", f"{board['p99']:.2f} ms", ""),
    ])


if __name__ == "__main__":
    main()
