"""Helpers shared by the benchmark scripts: percentiles, a table printer, process figures."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; the inputs need not be sorted."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {"p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms), "mean": statistics.fmean(ms)}


def rss_mb() -> float:
    """Peak resident memory of this process, in MB (VmHWM: unlike ru_maxrss it is not
    inherited from the parent across fork and exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def print_table(title: str, rows: list[tuple[str, str, str]]) -> None:
    """A Markdown table: what was measured, the figure, the target."""
    print(f"\n### {title}\n")
    print("| measure | result | target |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
