"""The counter roster: when each counter is expected to be staffed for the rest of a day.

The estimated wait needs to know that counter 5 opens at 08:30 and counter 2
takes a break at 10:00. Three sources, in order:

1. the site file's ``[[roster]]`` shifts for that weekday (what the
   supervisor planned);
2. else the event log: the same weekday of the last ``weeks`` weeks, a
   counter being planned on wherever it was open on most of those days
   (``learned``), in ``SLOT_S`` steps;
3. else, for a new site, what today shows: a counter that is open or paused
   stays until the hall closes, one that closed today has left, one not yet
   seen today is assumed to open now.

Pure functions: the ledger's read function passes the rows in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from giliran.config import WEEKDAYS, Hours, SiteConfig, parse_clock
from giliran.estimate import Shift

SLOT_S = 300
COUNTER_KINDS = ("counter_open", "counter_paused", "counter_closed")


@dataclass(frozen=True)
class CounterEvent:
    """One counter state change from the event log."""

    day: str
    at: float
    kind: str
    counter: int


def at_clock(day: dt.date, clock: str, zone: ZoneInfo) -> float:
    """Epoch seconds of a wall-clock time on a day at the site."""
    return dt.datetime.combine(day, parse_clock(clock), zone).timestamp()


def span(day: dt.date, hours: Hours, zone: ZoneInfo) -> tuple[float, float]:
    """Epoch seconds of opening and closing on a service day (a close before the open is after midnight)."""
    opens, closes = at_clock(day, hours.open, zone), at_clock(day, hours.close, zone)
    return opens, closes + (86400.0 if closes <= opens else 0.0)


def planned(site: SiteConfig, day: dt.date) -> dict[int, tuple[Shift, ...]]:
    """The site file's shifts on a day, breaks cut out, per counter that has any for that weekday."""
    weekday = WEEKDAYS[day.weekday()]
    zone = site.site.zone
    out: dict[int, list[Shift]] = {}
    for entry in site.roster:
        if weekday not in entry.days:
            continue
        start = at_clock(day, entry.open, zone)
        for b_start, b_end in sorted(entry.breaks):
            out.setdefault(entry.counter, []).append(Shift(start, at_clock(day, b_start, zone)))
            start = at_clock(day, b_end, zone)
        out.setdefault(entry.counter, []).append(Shift(start, at_clock(day, entry.close, zone)))
    return {c: tuple(sorted(s, key=lambda x: x.start)) for c, s in out.items()}


def learned(events: Iterable[CounterEvent], day: dt.date, zone: ZoneInfo, counters: Sequence[int],
            ) -> dict[int, tuple[Shift, ...]]:
    """Shifts on ``day`` where each counter was open on more than half of the past days in ``events``.

    A counter never open on those days is expected to stay closed; with no history at all, nothing is known.
    """
    by_day: dict[str, list[CounterEvent]] = {}
    for e in events:
        by_day.setdefault(e.day, []).append(e)
    if not by_day:
        return {}
    counts: dict[int, dict[int, int]] = {}
    for past, rows in by_day.items():
        midnight = _midnight(dt.date.fromisoformat(past), zone)
        for counter, spans in _open_spans(rows).items():
            slots = counts.setdefault(counter, {})
            for start, end in spans:
                for slot in range(int((start - midnight) // SLOT_S), int((end - midnight + SLOT_S - 1) // SLOT_S)):
                    slots[slot] = slots.get(slot, 0) + 1
    base = _midnight(day, zone)
    majority = len(by_day) / 2
    return {counter: _merge(base, sorted(s for s, n in counts.get(counter, {}).items() if n > majority))
            for counter in counters}


def fallback(states: Mapping[int, str], closed_today: set[int], now: float, hall_close: float,
             ) -> dict[int, tuple[Shift, ...]]:
    """For counters no plan or history covers: today's own evidence (see the module docstring)."""
    out: dict[int, tuple[Shift, ...]] = {}
    for counter, state in states.items():
        if state == "closed" and counter in closed_today:
            out[counter] = ()
        else:
            out[counter] = (Shift(now, max(hall_close, now)),)
    return out


def combine(counters: Sequence[int], *sources: Mapping[int, tuple[Shift, ...]]) -> dict[int, tuple[Shift, ...]]:
    """Per counter, the first source that knows it."""
    return {c: next((s[c] for s in sources if c in s), ()) for c in counters}


def _open_spans(rows: list[CounterEvent]) -> dict[int, list[tuple[float, float]]]:
    spans: dict[int, list[tuple[float, float]]] = {}
    opened: dict[int, float] = {}
    for e in sorted(rows, key=lambda r: r.at):
        if e.kind == "counter_open":
            opened.setdefault(e.counter, e.at)
        elif e.counter in opened:
            spans.setdefault(e.counter, []).append((opened.pop(e.counter), e.at))
    return spans


def _merge(base: float, slots: list[int]) -> tuple[Shift, ...]:
    shifts: list[Shift] = []
    for slot in slots:
        start = base + slot * SLOT_S
        if shifts and shifts[-1].end == start:
            shifts[-1] = Shift(shifts[-1].start, start + SLOT_S)
        else:
            shifts.append(Shift(start, start + SLOT_S))
    return tuple(shifts)


def _midnight(day: dt.date, zone: ZoneInfo) -> float:
    return dt.datetime.combine(day, dt.time(0, 0), zone).timestamp()
