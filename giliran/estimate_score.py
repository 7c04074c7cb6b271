"""How honest the printed wait was: scored as the customer read it, pooled over as many days as given.

The main figure is the share of called tickets whose real wait (issue to
first call) was within ±max(5 min, 25 % of the printed minutes) of what the
ticket printed. Beside it, per printed band, the mean absolute error and the
signed bias (printed minus real: positive means the ticket promised a longer
wait than the customer had). Tickets never called are counted apart, not
scored. The old figure (MAE of the unrounded estimate as a share of the mean
wait) is kept so the two can be compared.

Example::

    score = score_outcomes([Outcome(est_wait_s=600, wait_s=540), ...])
    print(format_score(score))
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from giliran.ledger import minutes

FLOOR_MIN = 5.0
SHARE = 0.25
BANDS: tuple[tuple[str, float, float], ...] = (
    ("0-4 min", 0, 5), ("5-9 min", 5, 10), ("10-19 min", 10, 20), ("20-29 min", 20, 30), ("30+ min", 30, math.inf))


@dataclass(frozen=True)
class Outcome:
    """One issued ticket: the estimate stored when it was printed and its real wait (None: never called)."""

    est_wait_s: float | None
    wait_s: float | None


@dataclass(frozen=True)
class Band:
    name: str
    tickets: int
    within: float
    mae_min: float
    bias_min: float


@dataclass(frozen=True)
class Score:
    called: int
    within: float              # share of called tickets with a printed wait inside the band
    bands: tuple[Band, ...]
    no_estimate: int           # called, but the ticket printed no minutes
    never_called: int
    old_share: float           # MAE of the unrounded estimate / mean wait, as the report computed it before


def printed_minutes(est_wait_s: float | None) -> int | None:
    """The minutes the ticket shows (giliran.ledger.minutes, as kiosk.issuer hands them to printer.layout)."""
    shown = minutes(est_wait_s)
    return None if shown is None else max(1, round(shown))


def within(printed: float, real_min: float) -> bool:
    return abs(real_min - printed) <= max(FLOOR_MIN, SHARE * printed)


def score_outcomes(outcomes: Iterable[Outcome]) -> Score:
    """Score tickets from one day or many (pooling is concatenation)."""
    rows = list(outcomes)
    called = [o for o in rows if o.wait_s is not None]
    pairs = [(p, o.wait_s / 60.0) for o in called if o.wait_s is not None
             and (p := printed_minutes(o.est_wait_s)) is not None]
    bands = tuple(_band(name, [(p, r) for p, r in pairs if low <= p < high]) for name, low, high in BANDS)
    waits = [o.wait_s for o in called if o.wait_s is not None]
    errors = [abs((o.est_wait_s or 0.0) - o.wait_s) for o in called if o.wait_s is not None]
    mean_wait = statistics.fmean(waits) if waits else 0.0
    return Score(
        called=len(pairs),
        within=sum(within(p, r) for p, r in pairs) / len(pairs) if pairs else 1.0,
        bands=bands,
        no_estimate=len(called) - len(pairs),
        never_called=len(rows) - len(called),
        old_share=statistics.fmean(errors) / mean_wait if mean_wait else 0.0,
    )


def _band(name: str, pairs: Sequence[tuple[int, float]]) -> Band:
    if not pairs:
        return Band(name, 0, 1.0, 0.0, 0.0)
    return Band(
        name=name,
        tickets=len(pairs),
        within=sum(within(p, r) for p, r in pairs) / len(pairs),
        mae_min=statistics.fmean(abs(p - r) for p, r in pairs),
        bias_min=statistics.fmean(p - r for p, r in pairs),
    )


def format_score(score: Score) -> str:
    """The score as Markdown: the main figure, the band table, the uncalled and the old figure."""
    lines = [
        f"Estimated wait as printed: **{score.within:.1%}** of {score.called} called tickets within "
        f"±max({FLOOR_MIN:g} min, {SHARE:.0%}) of the real wait; old figure (MAE of the unrounded estimate "
        f"/ mean wait): {score.old_share:.1%}",
        "",
        "| printed | tickets | within | MAE | bias (printed − real) |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {b.name} | {b.tickets} | {b.within:.1%} | {b.mae_min:.2f} min | {b.bias_min:+.2f} min |"
              for b in score.bands if b.tickets]
    lines += ["", f"Never called (left, expired): {score.never_called}; called with no minutes printed: "
                  f"{score.no_estimate}"]
    return "\n".join(lines) + "\n"
