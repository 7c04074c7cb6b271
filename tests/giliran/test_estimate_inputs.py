"""What the estimate reads from a real ledger: today's state, recent behaviour, roster and arrival profile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from giliran.config import SiteConfig
from giliran.estimate import CounterNow, Rate, ServiceTime, Shift
from giliran.estimate_inputs import read_queue_state
from giliran.ledger import Ledger
from giliran.roster import at_clock

TUESDAY = dt.date(2026, 11, 24)


def state_of(ledger: Ledger):  # type: ignore[no-untyped-def]
    now = ledger.now()
    return read_queue_state(ledger._db, ledger.site, now, ledger.service_day(now))


def test_recent_services_no_shows_call_gaps_and_todays_rate(tmp_path: Path, site: SiteConfig, clock) -> None:  # type: ignore[no-untyped-def]
    with Ledger(tmp_path / "l.sqlite", site, clock) as ledger:
        for _ in range(4):
            ledger.confirm(ledger.reserve("mykad").id)
            clock.advance(10)
        clock.advance(20)                                  # 09:01
        ledger.next(2)                                     # A001
        for service, gap in ((300, 30), (360, 30), (420, 60)):
            clock.advance(service)
            ledger.done(2)
            clock.advance(gap)
            ledger.next(2)                                 # A002, A003, A004
        clock.advance(120)
        ledger.no_show(2)                                  # A004 did not come: 120 s
        p = ledger.confirm(ledger.reserve("priority").id)
        s = state_of(ledger)
    now = clock()
    assert s.now == now
    assert [(t.ticket_id, t.category) for t in s.waiting] == [(p.id, "priority")]
    assert s.service["mykad"] == ServiceTime(360.0, 60.0)
    assert s.service["birth"] == ServiceTime(600.0, 180.0)   # the site's 10 min, spread 30 %, when unseen
    assert (s.no_show_share, s.no_show_s, s.call_gap_s) == (0.25, 120.0, 30.0)  # gaps 30, 30, 60: the median
    assert s.counters[1] == CounterNow(2, ("mykad",), "open", None, None)
    close = at_clock(TUESDAY, "17:00", site.site.zone)
    assert s.roster[2] == (Shift(now, close),) and s.roster[4] == (Shift(now, close),)
    assert s.arrivals["mykad"] == (Rate(now, close, 4.0),)   # 4 in the last hour, held until closing
    assert s.arrivals["priority"] == (Rate(now, close, 1.0),)
    assert s.arrivals["birth"] == ()


def test_profile_and_roster_learned_from_the_same_weekday_of_past_weeks(tmp_path: Path, site: SiteConfig,
                                                                         clock) -> None:  # type: ignore[no-untyped-def]
    zone = site.site.zone
    clock.set(dt.datetime.combine(TUESDAY - dt.timedelta(weeks=2), dt.time(9, 0), zone))  # ledger time never goes back
    with Ledger(tmp_path / "l.sqlite", site, clock) as ledger:
        for weeks, times in ((2, ("09:15", "09:45")), (1, ("09:10", "09:20", "10:30"))):
            day = TUESDAY - dt.timedelta(weeks=weeks)
            steps = [(hhmm, "issue") for hhmm in times] + [("09:30", "open"), ("11:00", "closed")]
            for hhmm, action in sorted(steps):  # in time order: the ledger's clock never runs backwards
                clock.set(dt.datetime.combine(day, dt.time.fromisoformat(hhmm), zone))
                if action == "issue":
                    ledger.confirm(ledger.reserve("mykad").id)
                else:
                    ledger.set_counter_state(1, action)
        clock.set(dt.datetime.combine(TUESDAY, dt.time(8, 5), zone))
        s = state_of(ledger)
    nine, ten, eleven = (at_clock(TUESDAY, t, zone) for t in ("09:00", "10:00", "11:00"))
    assert s.arrivals["mykad"] == (Rate(nine, ten, 2.0), Rate(ten, eleven, 0.5))
    assert s.arrivals["priority"] == ()
    assert s.roster[1] == (Shift(at_clock(TUESDAY, "09:30", zone), eleven),)
    assert s.roster[2] == ()  # seen in history, never open: not expected today
