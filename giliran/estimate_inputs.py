"""The estimate's inputs, read from the ledger: one function, ``read_queue_state``.

Everything the forward run (``giliran.estimate``) needs, each read bounded so
the cost does not grow with years of history:

- now: waiting tickets in order, passes, counters and how long each current
  customer has been served (today's rows only);
- recent behaviour: service times per category (mean and spread of the last
  ``calling.service_time_window``), the no-show share and how long staff wait
  for a no-show, the time staff take to call (the last ``RECENT`` calls today);
- the future: the counter roster (giliran.roster) and the arrival profile per
  category by hour, averaged over the same weekday of the last
  ``HISTORY_WEEKS`` weeks (tickets by ``day``, an indexed range); a new site
  with no such history uses today's rate over the last hour, held until the
  category closes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
from dataclasses import dataclass

from giliran import roster, rules
from giliran.config import SiteConfig
from giliran.estimate import CounterNow, QueueState, Rate, ServiceTime, Shift

HISTORY_WEEKS = 8
RECENT = 40
MIN_SEEN = 3
DEFAULT_NO_SHOW_S = 120.0
RECENT_RATE_S = 3600.0
SPREAD = 0.3  # service time sd as a share of the mean when too few services were seen


@dataclass(frozen=True)
class Profile:
    """Tickets per (category, local hour) over ``days`` past same-weekday days; fixed for a whole day."""

    counts: dict[tuple[str, int], int]
    days: int


def read_profile(db: sqlite3.Connection, site: SiteConfig, day: str) -> Profile:
    """The arrival history of the same weekday of the last HISTORY_WEEKS weeks (an indexed range of days)."""
    days = past_days(dt.date.fromisoformat(day))
    zone = site.site.zone
    counts: dict[tuple[str, int], int] = {}
    seen: set[str] = set()
    for past, category, issued_at in db.execute(
            f"SELECT day, origin_category, issued_at FROM tickets WHERE day IN ({', '.join('?' * len(days))})"
            " AND state != 'voided'", days):
        seen.add(past)
        key = (category, dt.datetime.fromtimestamp(issued_at, zone).hour)
        counts[key] = counts.get(key, 0) + 1
    return Profile(counts, len(seen))


def read_queue_state(db: sqlite3.Connection, site: SiteConfig, now: float, day: str,
                     profile: Profile | None = None) -> QueueState:
    """The ledger as the estimate sees it at ``now`` (``day``: the service day ``now`` belongs to).

    ``profile``: ``read_profile`` for the day, if the caller keeps it (it changes only when the day does).
    """
    today = dt.date.fromisoformat(day)
    counters = _counters(db, site)
    return QueueState(
        now=now,
        waiting=tuple(rules.Candidate(r[0], r[1], r[2]) for r in db.execute(
            "SELECT id, category, issued_at FROM tickets WHERE state = 'waiting' ORDER BY id")),  # issue order
        passes={r[0]: r[1] for r in db.execute("SELECT category, pass FROM passes")},
        rules={c.id: rules.CategoryRule(c.weight, c.max_wait_min * 60.0) for c in site.categories},
        counters=counters,
        service=_service_times(db, site),
        roster=_roster(db, site, today, now, counters),
        arrivals=_arrivals(db, site, today, now, profile or read_profile(db, site, day)),
        **_staff(db, day),
    )


def read_roster(db: sqlite3.Connection, site: SiteConfig, now: float, day: str,
                ) -> tuple[tuple[CounterNow, ...], dict[int, tuple[Shift, ...]]]:
    """Counters now and their roster for the rest of ``day``: enough to tell when a category is served."""
    counters = _counters(db, site)
    return counters, _roster(db, site, dt.date.fromisoformat(day), now, counters)


def past_days(today: dt.date, weeks: int = HISTORY_WEEKS) -> list[str]:
    """The same weekday of the last ``weeks`` weeks, as service-day strings."""
    return [(today - dt.timedelta(weeks=k)).isoformat() for k in range(1, weeks + 1)]


def _counters(db: sqlite3.Connection, site: SiteConfig) -> tuple[CounterNow, ...]:
    rows = {r[0]: r for r in db.execute(
        "SELECT c.id, c.state, t.called_at, t.category FROM counters c"
        " LEFT JOIN tickets t ON t.id = c.current_ticket")}
    return tuple(CounterNow(c.id, tuple(c.categories), rows[c.id][1], rows[c.id][2], rows[c.id][3])
                 for c in site.counters if c.id in rows)


def _service_times(db: sqlite3.Connection, site: SiteConfig) -> dict[str, ServiceTime]:
    out = {}
    for cat in site.categories:
        seen = [r[0] for r in db.execute(
            "SELECT finished_at - called_at FROM tickets WHERE state = 'done' AND category = ?"
            " AND called_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",  # the tickets_served index
            (cat.id, site.calling.service_time_window))]
        if len(seen) < MIN_SEEN:
            out[cat.id] = ServiceTime(cat.service_min * 60.0, cat.service_min * 60.0 * SPREAD)
        else:
            out[cat.id] = ServiceTime(statistics.fmean(seen), statistics.stdev(seen))
    return out


def _staff(db: sqlite3.Connection, day: str) -> dict[str, float]:
    """No-show share and wait, and the time from a counter being free (or a ticket arriving) to its call."""
    finished = db.execute(
        "SELECT state, finished_at - called_at FROM tickets WHERE day = ? AND state IN ('done', 'no_show')"
        " AND called_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?", (day, RECENT)).fetchall()
    no_shows = [r[1] for r in finished if r[0] == "no_show"]
    calls = db.execute(
        "SELECT counter, issued_at, called_at, finished_at FROM tickets WHERE day = ? AND called_at IS NOT NULL"
        " ORDER BY called_at DESC LIMIT ?", (day, RECENT)).fetchall()
    gaps = []
    by_counter: dict[int, list[sqlite3.Row]] = {}
    for row in reversed(calls):
        by_counter.setdefault(row[0], []).append(row)
    for rows in by_counter.values():
        for prev, call in zip(rows, rows[1:], strict=False):
            if prev[3] is not None:
                gaps.append(max(call[2] - max(prev[3], call[1]), 0.0))
    return {
        "no_show_share": len(no_shows) / len(finished) if len(finished) >= MIN_SEEN else 0.0,
        "no_show_s": statistics.fmean(no_shows) if no_shows else DEFAULT_NO_SHOW_S,
        # The median: a counter back from a break shows one long gap that is not how fast staff call.
        "call_gap_s": statistics.median(gaps) if len(gaps) >= MIN_SEEN else 0.0,
    }


def _roster(db: sqlite3.Connection, site: SiteConfig, today: dt.date, now: float,
            counters: tuple[CounterNow, ...]) -> dict[int, tuple[Shift, ...]]:
    zone = site.site.zone
    days = past_days(today)
    history = [roster.CounterEvent(r[0], r[1], r[2], r[3]) for r in db.execute(
        f"SELECT day, at, kind, counter FROM events WHERE kind IN ({', '.join('?' * len(roster.COUNTER_KINDS))})"
        f" AND day IN ({', '.join('?' * len(days))})", (*roster.COUNTER_KINDS, *days))]
    closed_today = {r[0] for r in db.execute(
        "SELECT counter FROM events WHERE kind = 'counter_closed' AND day = ?", (today.isoformat(),))}
    hall_close = roster.span(today, site.hours, zone)[1]
    states = {c.id: c.state for c in counters}
    return roster.combine([c.id for c in counters], roster.planned(site, today),
                          roster.learned(history, today, zone, list(states)),
                          roster.fallback(states, closed_today, now, hall_close))


def _arrivals(db: sqlite3.Connection, site: SiteConfig, today: dt.date, now: float,
              profile: Profile) -> dict[str, tuple[Rate, ...]]:
    zone = site.site.zone
    base = roster.at_clock(today, "00:00", zone)
    out: dict[str, tuple[Rate, ...]] = {}
    for cat in site.categories:
        opens, closes = roster.span(today, site.hours_of(cat), zone)
        if profile.days:
            rates = [Rate(max(base + h * 3600.0, opens), min(base + (h + 1) * 3600.0, closes), n / profile.days)
                     for (k, h), n in sorted(profile.counts.items()) if k == cat.id]
        else:
            since = max(now - RECENT_RATE_S, opens)
            n = db.execute("SELECT COUNT(*) FROM tickets WHERE day = ? AND origin_category = ? AND issued_at >= ?"
                           " AND state != 'voided'", (today.isoformat(), cat.id, since)).fetchone()[0]
            span = now - since
            rates = [Rate(now, closes, n * 3600.0 / span)] if span > 0 and n else []
        out[cat.id] = tuple(r for r in rates if r.end > r.start)
    return out
