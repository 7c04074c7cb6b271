"""A Pi's clock goes wrong: the queue keeps its order, its numbers and its people.

Every case runs on two injected clocks, as on a Pi: the wall clock (which
NTP, fake-hwclock or a bad time server moves) and the monotonic clock
(seconds since boot, which only runs forward).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from giliran.config import SiteConfig
from giliran.ledger import Ledger
from tests.conftest import FakeClock
from tests.giliran.invariants import check_invariants


class Pi:
    """A wall clock and a monotonic clock (since boot); ``run`` moves both, ``step`` only the wall."""

    def __init__(self, wall: dt.datetime, uptime: float = 86400.0) -> None:
        self.wall = FakeClock(wall)
        self.mono = uptime

    def monotonic(self) -> float:
        return self.mono

    def run(self, seconds: float) -> None:
        self.wall.advance(seconds)
        self.mono += seconds

    def step(self, seconds: float) -> None:
        self.wall.advance(seconds)

    def ledger(self, path: Path, site: SiteConfig, synced: Callable[[], bool] | None = None) -> Ledger:
        return Ledger(path, site, self.wall, self.monotonic, synced)


def at(site: SiteConfig, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=site.site.zone)


def issue(ledger: Ledger, category: str = "mykad") -> str:
    return ledger.confirm(ledger.reserve(category).id).number


def events(ledger: Ledger, kind: str) -> list[dict[str, object]]:
    return [json.loads(e["data"]) | {"ticket": e["ticket"]} for e in ledger.events(limit=100_000) if e["kind"] == kind]


def test_clock_back_one_hour_keeps_issue_order_counts_and_waits(tmp_path: Path, site: SiteConfig) -> None:
    pi = Pi(at(site, 24, 9, 0))
    with pi.ledger(tmp_path / "l.sqlite", site) as ledger:
        issue(ledger)                      # A001 09:00
        pi.run(600)
        issue(ledger)                      # A002 09:10
        pi.run(60)
        ledger.check_clock()               # the kiosk reads its clock every second
        pi.step(-3600)                     # NTP sets the clock back an hour: the wall says 08:11
        late = ledger.reserve("mykad")     # A003: issued last, so behind the other two
        ledger.confirm(late.id)
        assert late.ahead == 2
        assert [t.number for t in ledger.waiting()] == ["A001", "A002", "A003"]
        assert next(load.waiting for load in ledger.loads() if load.category == "mykad") == 3
        reading = ledger.check_clock()
        assert reading.state == "behind" and reading.text == "behind by 3600 s"
        assert [e["state"] for e in events(ledger, "clock")] == ["behind"]
        pi.run(120)
        assert [ledger.next(2).number for _ in range(3)] == ["A001", "A002", "A003"]
        waits = [float(e["waited_s"]) for e in events(ledger, "called")]  # type: ignore[arg-type]
        assert min(waits) >= 0
        assert events(ledger, "expired") == [] and events(ledger, "day_started")[1:] == []
        times = [e["at"] for e in ledger.events(limit=100_000)]
        assert times == sorted(times), "ledger time never runs backwards"
        pi.run(2 * 3600)                   # the wall clock has caught up (ledger time ran at half pace)
        assert ledger.check_clock().state == "ok"
        check_invariants(ledger._db)


def test_clock_forward_a_day_and_back_expires_nothing_and_numbering_continues(
        tmp_path: Path, site: SiteConfig) -> None:
    pi = Pi(at(site, 24, 9, 0))
    with pi.ledger(tmp_path / "l.sqlite", site) as ledger:
        issue(ledger)
        issue(ledger)
        assert ledger.next(2).number == "A001"
        pi.run(30)
        pi.step(86400)                     # a bad time server: tomorrow
        reading = ledger.check_clock()
        assert reading.state == "held" and reading.text == "ahead by 86400 s, held"
        assert issue(ledger) == "A003"     # still today's numbering
        pi.run(120)
        pi.step(-86400)                    # and back
        assert ledger.check_clock().state == "ok"
        assert issue(ledger) == "A004"
        assert [t.number for t in ledger.waiting()] == ["A002", "A003", "A004"]
        assert next(r for r in ledger.counters() if r.id == 2).serving.number == "A001"  # type: ignore[union-attr]
        assert {t.day for t in ledger.waiting()} == {"2026-11-24"}
        assert events(ledger, "expired") == []
        assert [e["state"] for e in events(ledger, "clock")] == ["held", "ok"]
        check_invariants(ledger._db)


def test_a_forward_step_that_lasts_is_taken_and_carries_the_hall_into_the_new_day(
        tmp_path: Path, site: SiteConfig) -> None:
    """A step that stays for 10 minutes is believed; the people who just took tickets are not expired."""
    pi = Pi(at(site, 24, 9, 0))
    with pi.ledger(tmp_path / "l.sqlite", site) as ledger:
        issue(ledger)
        issue(ledger)
        pi.run(60)
        pi.step(86400)
        assert ledger.check_clock().state == "held"
        pi.run(601)
        assert ledger.check_clock().state == "ok"
        assert [(t.number, t.day) for t in ledger.waiting()] == [("A001", "2026-11-25"), ("A002", "2026-11-25")]
        assert issue(ledger) == "A003"     # after the carried tickets: no number twice in the hall
        assert events(ledger, "expired") == []
        check_invariants(ledger._db)


def test_a_technician_confirms_a_held_step_at_once(tmp_path: Path, site: SiteConfig) -> None:
    pi = Pi(at(site, 24, 9, 0))
    with pi.ledger(tmp_path / "l.sqlite", site) as ledger:
        issue(ledger)
        pi.step(86400)
        assert ledger.check_clock().state == "held"
        assert ledger.accept_clock().state == "ok"     # the clock_ok technician command
        assert issue(ledger) == "A002"                 # carried A001 is ahead; no number twice
        assert [(t.number, t.day) for t in ledger.waiting()] == [("A001", "2026-11-25"), ("A002", "2026-11-25")]


def yesterday_with_leftovers(path: Path, site: SiteConfig) -> None:
    """Monday 23rd: A001 served, A002 and A003 still waiting when the hall closed; the Pi shut down at 17:10."""
    pi = Pi(at(site, 23, 16, 30))
    with pi.ledger(path, site) as ledger:
        for _ in range(3):
            issue(ledger)
            pi.run(300)
        ledger.next(2)
        ledger.done(2)


def test_boot_at_yesterdays_time_without_a_time_source(tmp_path: Path, site: SiteConfig) -> None:
    """fake-hwclock restores 17:10 Monday on Tuesday morning, and no NTP ever comes."""
    path = tmp_path / "l.sqlite"
    yesterday_with_leftovers(path, site)
    pi = Pi(at(site, 23, 17, 10), uptime=40)
    with pi.ledger(path, site) as ledger:
        assert ledger.check_clock().state == "unconfirmed"
        assert ledger.availability("mykad") is None, "the hall is not closed all morning"
        ticket = ledger.confirm(ledger.reserve("mykad").id)
        assert (ticket.number, ticket.day, ticket.ahead) == ("A001", "2026-11-24", 0)
        assert ledger.find("A002", day="2026-11-23").state == "expired"  # type: ignore[union-attr]
        pi.run(3 * 3600)                   # the wall clock says 20:10 Monday; the hall is busy
        assert ledger.availability("mykad") is None
        assert issue(ledger) == "A002"
        assert [t.number for t in ledger.waiting()] == ["A001", "A002"]
        assert ledger.next(2).number == "A001"
        check_invariants(ledger._db)


def test_boot_at_yesterdays_time_then_ntp_sets_the_clock(tmp_path: Path, site: SiteConfig) -> None:
    path = tmp_path / "l.sqlite"
    yesterday_with_leftovers(path, site)
    pi = Pi(at(site, 23, 17, 10), uptime=40)
    with pi.ledger(path, site) as ledger:
        assert issue(ledger) == "A001"
        assert issue(ledger) == "A002"
        assert ledger.next(2).number == "A001"
        pi.run(1200)
        pi.step(at(site, 24, 8, 30).timestamp() - pi.wall())   # NTP: it is Tuesday 08:30
        assert ledger.check_clock().state == "ok"
        assert issue(ledger) == "A003"
        assert [(t.number, t.day) for t in ledger.waiting()] == [("A002", "2026-11-24"), ("A003", "2026-11-24")]
        assert next(r for r in ledger.counters() if r.id == 2).serving.number == "A001"  # type: ignore[union-attr]
        assert [e["ticket"] for e in events(ledger, "expired")] == ["A002", "A003"]  # Monday's leftovers only
        check_invariants(ledger._db)


def test_power_cut_boot_behind_the_ledger_then_ntp_carries_todays_tickets(tmp_path: Path, site: SiteConfig) -> None:
    """fake-hwclock's hourly save is behind the last ticket: the kiosk cannot tell a night passed.

    Monday's leftovers stay ahead until the clock is set; then they expire, and
    the tickets issued since the boot are carried into Tuesday, numbers kept.
    """
    path = tmp_path / "l.sqlite"
    yesterday_with_leftovers(path, site)
    pi = Pi(at(site, 23, 16, 5), uptime=40)
    with pi.ledger(path, site) as ledger:
        reading = ledger.check_clock()
        assert reading.state == "behind"
        assert issue(ledger) == "A004"     # Monday's numbering goes on: no number twice
        pi.run(900)
        pi.step(at(site, 24, 8, 45).timestamp() - pi.wall())
        assert ledger.check_clock().state == "ok"
        assert [(t.number, t.day) for t in ledger.waiting()] == [("A004", "2026-11-24")]
        assert issue(ledger) == "A005"
        assert ledger.next(2).number == "A004"
        assert sorted(str(e["ticket"]) for e in events(ledger, "expired")) == ["A002", "A003"]
        check_invariants(ledger._db)


@pytest.mark.parametrize("uptime", [40.0, 86400.0])
def test_a_restart_mid_day_keeps_the_day(tmp_path: Path, site: SiteConfig, uptime: float) -> None:
    """A kiosk restart (or a quick reboot) at 11:00 keeps the morning's queue, hours and numbers."""
    path = tmp_path / "l.sqlite"
    pi = Pi(at(site, 24, 10, 0))
    with pi.ledger(path, site) as ledger:
        issue(ledger)
        issue(ledger)
    pi = Pi(at(site, 24, 10, 1), uptime=uptime)
    with pi.ledger(path, site) as ledger:
        assert [t.number for t in ledger.waiting()] == ["A001", "A002"]
        assert issue(ledger) == "A003"


def test_a_boot_with_ntp_in_sync_is_trusted_and_sync_later_confirms(tmp_path: Path, site: SiteConfig) -> None:
    """A quick reboot at 17:10 with chrony in sync: the hall is closed, as its hours say; the queue is kept."""
    path = tmp_path / "l.sqlite"
    yesterday_with_leftovers(path, site)
    pi = Pi(at(site, 23, 17, 10), uptime=40)
    with pi.ledger(path, site, synced=lambda: True) as ledger:
        assert ledger.check_clock().state == "ok"
        assert ledger.availability("mykad") == "closed"
        assert [t.number for t in ledger.waiting()] == ["A002", "A003"]
    synced = [False]
    pi = Pi(at(site, 23, 17, 20), uptime=40)
    with pi.ledger(path, site, synced=lambda: synced[0]) as ledger:
        assert ledger.check_clock().state == "unconfirmed"
        synced[0] = True                   # chrony has synchronized the clock: it is 17:20
        assert ledger.check_clock().state == "ok"
        assert ledger.availability("mykad") == "closed"
