"""bench/ledger.py runs (at a tiny size: the benchmark itself is not part of the suite; figures are in README)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ledger_benchmark_prints_fresh_and_history_side_by_side() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.ledger", "--ops", "30", "--round-trips", "3",
         "--history-days", "3", "--per-day", "60", "--steps", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert "### Ledger with history: 180 tickets and 721 events over 3 service days" in out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    for step in ("reserve + confirm", "next", "board build"):
        figures = [cell.strip() for cell in rows[step].split("|")[2:6]]  # fresh and history, p50 and p99
        assert all(cell.endswith(" ms") for cell in figures), rows[step]
