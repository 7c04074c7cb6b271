"""The day report: per category, what customers lived through; per counter, their ratings.

Read from the ledger file itself (read-only), so it works on a live kiosk and
on a backup. The simulator prints the same report after a scenario. The
estimated-wait error compares the wait printed on each ticket with the wait it
really had (issue → first call).
"""

from __future__ import annotations

import sqlite3
import statistics
from dataclasses import dataclass
from pathlib import Path

from giliran.estimate_score import Outcome, Score, format_score, score_outcomes


@dataclass(frozen=True)
class CategoryReport:
    category: str
    tickets: int
    served: int
    no_shows: int
    mean_wait_min: float
    p90_wait_min: float
    max_wait_min: float
    service_level: float
    promoted: int
    estimate_mae_min: float
    estimate_within: float

    @property
    def estimate_error_share(self) -> float:
        """MAE of the printed estimate as a share of the mean wait (0.25 = 25 %)."""
        return self.estimate_mae_min / self.mean_wait_min if self.mean_wait_min else 0.0


@dataclass(frozen=True)
class CounterFeedback:
    counter: int
    very_good: int
    good: int
    poor: int

    @property
    def ratings(self) -> int:
        return self.very_good + self.good + self.poor


@dataclass(frozen=True)
class Report:
    categories: list[CategoryReport]
    total: CategoryReport
    voided: int
    expired: int
    feedback: list[CounterFeedback]
    outcomes: list[Outcome]

    @property
    def estimate(self) -> Score:
        """The printed wait scored (giliran.estimate_score); pool days by adding their outcomes."""
        return score_outcomes(self.outcomes)


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def _summarise(name: str, rows: list[sqlite3.Row], target_wait_s: float) -> CategoryReport:
    called = [r for r in rows if r["called_at"] is not None]
    waits = [(r["called_at"] - r["issued_at"]) / 60 for r in called]
    errors = [abs((r["est_wait_s"] or 0) - (r["called_at"] - r["issued_at"])) / 60 for r in called]
    return CategoryReport(
        category=name,
        tickets=len(rows),
        served=sum(1 for r in rows if r["state"] == "done"),
        no_shows=sum(1 for r in rows if r["state"] == "no_show"),
        mean_wait_min=statistics.fmean(waits) if waits else 0.0,
        p90_wait_min=_p90(waits) if waits else 0.0,
        max_wait_min=max(waits, default=0.0),
        service_level=sum(1 for w in waits if w * 60 <= target_wait_s) / len(waits) if waits else 1.0,
        promoted=sum(1 for r in called if r["promoted"]),
        estimate_mae_min=statistics.fmean(errors) if errors else 0.0,
        estimate_within=score_outcomes(_outcomes(rows)).within,
    )


def _outcomes(rows: list[sqlite3.Row]) -> list[Outcome]:
    return [Outcome(r["est_wait_s"], None if r["called_at"] is None else r["called_at"] - r["issued_at"])
            for r in rows]


def build_report(ledger_path: Path, day: str, target_wait_min: float, categories: list[str]) -> Report:
    """Summarise one service day of a ledger file."""
    db = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute("SELECT * FROM tickets WHERE day = ?", (day,)).fetchall()
        ratings = db.execute(
            "SELECT counter, rating, COUNT(*) FROM tickets WHERE day = ? AND rating IS NOT NULL"
            " GROUP BY counter, rating", (day,)).fetchall()
    finally:
        db.close()
    by_counter: dict[int, dict[str, int]] = {}
    for counter, rating, count in ratings:
        by_counter.setdefault(counter, {})[rating] = count
    issued = [r for r in rows if r["state"] not in ("voided", "printing")]
    target = target_wait_min * 60
    per = [_summarise(c, [r for r in issued if r["origin_category"] == c], target) for c in categories]
    return Report(
        categories=[c for c in per if c.tickets],
        total=_summarise("all", issued, target),
        voided=sum(1 for r in rows if r["state"] == "voided"),
        expired=sum(1 for r in rows if r["state"] == "expired"),
        feedback=[CounterFeedback(c, r.get("very_good", 0), r.get("good", 0), r.get("poor", 0))
                  for c, r in sorted(by_counter.items())],
        outcomes=_outcomes(issued),
    )


def format_report(report: Report, target_wait_min: float) -> str:
    """A Markdown table, for the terminal and the demo's summary file."""
    head = (f"| category | tickets | served | no-shows | mean wait | p90 wait | max wait "
            f"| within {target_wait_min:g} min | promoted | printed wait within band |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n")
    lines = [
        f"| {c.category} | {c.tickets} | {c.served} | {c.no_shows} | {c.mean_wait_min:.1f} min "
        f"| {c.p90_wait_min:.1f} min | {c.max_wait_min:.1f} min | {c.service_level:.0%} | {c.promoted} "
        f"| {c.estimate_within:.0%} |"
        for c in [*report.categories, report.total]
    ]
    tail = f"\nvoided (printer faults): {report.voided}; expired at day end: {report.expired}\n"
    if report.feedback:
        tail += "\n| counter | very good | good | poor | ratings |\n|---|---|---|---|---|\n" + "".join(
            f"| {f.counter} | {f.very_good} | {f.good} | {f.poor} | {f.ratings} |\n" for f in report.feedback)
    return head + "\n".join(lines) + "\n" + tail + "\n" + format_score(report.estimate)
