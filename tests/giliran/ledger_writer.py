"""A ledger writer for the kill -9 test: issues and calls tickets, reporting each after its commit.

Run as ``python ledger_writer.py LEDGER BASE_EPOCH WALL_START``; the ledger clock is
BASE_EPOCH plus the wall time since WALL_START, so it never runs backwards across restarts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import msgspec

from giliran.config import load_site
from giliran.errors import LedgerError
from giliran.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    path, base, wall_start = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    site = load_site(ROOT / "examples" / "site.toml")
    site = msgspec.structs.replace(site, categories=[msgspec.structs.replace(c, quota=None, hours=None)
                                                     for c in site.categories])
    ledger = Ledger(path, site, lambda: base + (time.time() - wall_start))
    print("READY", flush=True)
    categories = [c.id for c in site.categories]
    for i in range(100_000):
        ticket = ledger.reserve(categories[i % len(categories)])
        ledger.confirm(ticket.id)
        print("ISSUED", ticket.number, flush=True)
        if i % 3 == 2:
            try:
                called = ledger.next(1 + i % 6)
                print("CALLED", called.number, flush=True)
            except LedgerError:
                pass


if __name__ == "__main__":
    main()
