"""Estimated wait: how long until a ticket is called. Pure functions; the ledger gathers the inputs.

Two estimates, and the smaller wins, because each errs high in a different
regime:

- **model**: people ahead × the category's mean service time ÷ the share of
  counter time the category gets (each counter serving it splits its time
  among the categories waiting there, by weight). It errs high when the
  waiting-time override or the weights pull a category forward faster than
  its share (e.g. a surge of priority tickets).
- **observed**: people ahead ÷ the rate this category's tickets were really
  called over the last ``window_s``. It errs high when counters were idle for
  lack of customers (calls then follow arrivals, not capacity).

The last person ahead is on average half-way through service, hence the half.
The error of the result is measured by the simulator (docs/TESTING.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MIN_OBSERVED_CALLS = 3


@dataclass(frozen=True)
class CounterLoad:
    categories: tuple[str, ...]
    open: bool
    busy: bool


def model_wait_s(category: str, ahead: int, counters: Sequence[CounterLoad], waiting: set[str],
                 weights: Mapping[str, int], service_s: float) -> float | None:
    """From capacity: None when no counter serves the category."""
    serving = [c for c in counters if category in c.categories]
    staffed = [c for c in serving if c.open] or serving  # none open yet: assume they will open
    if not staffed:
        return None
    competing = waiting | {category}
    share = sum(weights[category] / sum(weights[k] for k in c.categories if k in competing) for c in staffed)
    position = ahead + (0.5 if all(c.busy for c in staffed) else 0.0)
    return position * service_s / share


def observed_wait_s(ahead: int, call_times: Sequence[float], now: float, window_s: float) -> float | None:
    """From the recent call rate of the category; None with too few calls to judge."""
    recent = [t for t in call_times if now - window_s <= t <= now]
    if len(recent) < MIN_OBSERVED_CALLS:
        return None
    rate = len(recent) / max(now - min(recent), 1.0)
    return (ahead + 0.5) / rate


def estimate_wait_s(model: float | None, observed: float | None) -> float | None:
    candidates = [e for e in (model, observed) if e is not None]
    return min(candidates) if candidates else None
