"""The counter roster: planned in the site file, learned from the event log, or today's evidence."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from giliran import roster
from giliran.config import RosterShift, SiteConfig, parse_site
from giliran.errors import ConfigError
from giliran.estimate import Shift

TUESDAY = dt.date(2026, 11, 24)


def at(site: SiteConfig, clock: str, day: dt.date = TUESDAY) -> float:
    return roster.at_clock(day, clock, site.site.zone)


def test_planned_shifts_cut_out_breaks_on_their_weekdays(site: SiteConfig) -> None:
    planned = msgspec.structs.replace(site, roster=[
        RosterShift(counter=2, open="08:00", close="12:00", breaks=[("10:00", "10:15")], days=["tue"]),
        RosterShift(counter=5, open="08:30", close="12:00", days=["wed"]),
    ])
    assert roster.planned(planned, TUESDAY) == {
        2: (Shift(at(site, "08:00"), at(site, "10:00")), Shift(at(site, "10:15"), at(site, "12:00")))}
    wednesday = TUESDAY + dt.timedelta(days=1)
    assert roster.planned(planned, wednesday) == {5: (Shift(at(site, "08:30", wednesday), at(site, "12:00", wednesday)),)}


def test_a_bad_roster_names_the_key(site: SiteConfig) -> None:
    text = (__import__("pathlib").Path(__file__).parents[2] / "examples" / "site.toml").read_text()
    with pytest.raises(ConfigError, match=r"roster\[0\]\.counter: no counter has id 9"):
        parse_site(text + '\n[[roster]]\ncounter = 9\nopen = "08:00"\nclose = "12:00"\n')
    with pytest.raises(ConfigError, match="must lie within 08:00-12:00"):
        parse_site(text + '\n[[roster]]\ncounter = 1\nopen = "08:00"\nclose = "12:00"\nbreaks = [["11:30", "12:30"]]\n')


def test_learned_from_the_same_weekday_where_the_counter_was_open_on_most_days(site: SiteConfig) -> None:
    zone = site.site.zone
    events = []
    for weeks, close in ((1, "12:00"), (2, "12:00"), (3, "10:00")):
        day = TUESDAY - dt.timedelta(weeks=weeks)
        events += [roster.CounterEvent(day.isoformat(), at(site, "08:00", day), "counter_open", 1),
                   roster.CounterEvent(day.isoformat(), at(site, close, day), "counter_closed", 1)]
    lone = TUESDAY - dt.timedelta(weeks=1)
    events += [roster.CounterEvent(lone.isoformat(), at(site, "09:00", lone), "counter_open", 2),
               roster.CounterEvent(lone.isoformat(), at(site, "09:02", lone), "counter_paused", 2)]
    learned = roster.learned(events, TUESDAY, zone, [1, 2, 3])
    assert learned == {1: (Shift(at(site, "08:00"), at(site, "12:00")),), 2: (), 3: ()}
    assert roster.learned([], TUESDAY, zone, [1, 2, 3]) == {}


def test_today_evidence_for_a_new_site_and_the_order_of_sources() -> None:
    got = roster.fallback({1: "open", 2: "closed", 3: "closed", 4: "paused"}, closed_today={2}, now=100.0,
                          hall_close=500.0)
    assert got == {1: (Shift(100.0, 500.0),), 2: (), 3: (Shift(100.0, 500.0),), 4: (Shift(100.0, 500.0),)}
    first, second = {1: (Shift(1.0, 2.0),)}, {1: (), 2: (Shift(3.0, 4.0),)}
    assert roster.combine([1, 2, 3], first, second) == {1: (Shift(1.0, 2.0),), 2: (Shift(3.0, 4.0),), 3: ()}
