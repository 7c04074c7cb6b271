"""The queue ledger: numbering, quotas, hours, the calling rule, transfers, day reset, the event log."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import msgspec
import pytest

from giliran.config import SiteConfig
from giliran.errors import LedgerError
from giliran.ledger import Ledger


@pytest.fixture
def ledger(tmp_path: Path, site: SiteConfig, clock) -> Ledger:  # type: ignore[no-untyped-def]
    with Ledger(tmp_path / "ledger.sqlite", site, clock) as opened:
        yield opened


def issue(ledger: Ledger, category: str) -> str:
    return ledger.confirm(ledger.reserve(category).id).number


def test_numbers_are_per_category_and_count_up(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    assert [issue(ledger, "mykad") for _ in range(3)] == ["A001", "A002", "A003"]
    assert issue(ledger, "priority") == "P001"
    assert issue(ledger, "mykad") == "A004"


def test_ahead_and_estimate_are_recorded_on_the_ticket(ledger: Ledger) -> None:
    for _ in range(4):
        issue(ledger, "mykad")
    ticket = ledger.reserve("mykad")
    assert ticket.ahead == 4
    assert ticket.est_wait_s is not None and ticket.est_wait_s > 0


def test_quota_stops_issuing_and_names_the_quota(tmp_path: Path, site: SiteConfig, clock) -> None:  # type: ignore[no-untyped-def]
    cats = [msgspec.structs.replace(c, quota=2) if c.id == "mykad" else c for c in site.categories]
    small = msgspec.structs.replace(site, categories=cats)
    with Ledger(tmp_path / "l.sqlite", small, clock) as ledger:
        issue(ledger, "mykad")
        issue(ledger, "mykad")
        assert ledger.availability("mykad") == "quota_full"
        with pytest.raises(LedgerError, match="daily quota of 2") as info:
            ledger.reserve("mykad")
        assert info.value.code == "quota_full"


def test_closed_outside_hours_and_category_hours(tmp_path: Path, clock, site: SiteConfig) -> None:  # type: ignore[no-untyped-def]
    clock.set(dt.datetime(2026, 11, 24, 8, 15, tzinfo=site.site.zone))
    ledger = Ledger(tmp_path / "l.sqlite", site, clock)
    assert ledger.availability("mykad") is None
    assert ledger.availability("marriage") == "closed"  # opens 08:30
    clock.set(dt.datetime(2026, 11, 24, 17, 5, tzinfo=site.site.zone))
    with pytest.raises(LedgerError, match="closed now") as info:
        ledger.reserve("mykad")
    assert info.value.code == "closed"
    ledger.close()


def test_void_retires_the_number_for_good(ledger: Ledger) -> None:
    first = ledger.reserve("mykad")
    ledger.void(first.id, "paper out")
    assert issue(ledger, "mykad") == "A002"
    assert [t.number for t in ledger.waiting()] == ["A002"]


def test_a_ticket_printing_when_the_kiosk_died_is_voided_on_open(tmp_path: Path, site: SiteConfig, clock) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "l.sqlite"
    with Ledger(path, site, clock) as ledger:
        ledger.reserve("mykad")
    with Ledger(path, site, clock) as ledger:
        assert ledger.waiting() == []
        assert ledger.find("A001").state == "voided"  # type: ignore[union-attr]
        assert issue(ledger, "mykad") == "A002"


def test_next_serves_only_the_counters_categories_oldest_first(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    issue(ledger, "birth")
    clock.advance(1)
    issue(ledger, "mykad")
    clock.advance(1)
    issue(ledger, "mykad")
    assert ledger.next(2).number == "A001"   # counter 2 serves mykad only
    assert ledger.next(4).number == "B001"   # counter 4: birth, death
    assert ledger.next(2).number == "A002"
    with pytest.raises(LedgerError, match="no one is waiting for counter 2's services") as info:
        ledger.next(2)
    assert info.value.code == "nobody_waiting"


def test_two_priority_tickets_for_each_normal_one(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6):
        issue(ledger, "mykad")
        issue(ledger, "priority")
        clock.advance(1)
    calls = [ledger.next(1).number[0] for _ in range(9)]
    assert calls == ["P", "P", "A", "P", "P", "A", "P", "P", "A"]


def test_a_ticket_past_its_maximum_wait_goes_first(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    issue(ledger, "mykad")  # max 60 min
    clock.advance(61 * 60)
    for _ in range(3):
        issue(ledger, "priority")
    called = ledger.next(1)
    assert called.number == "A001" and called.promoted


def test_recall_no_show_done_and_counter_states(ledger: Ledger) -> None:
    issue(ledger, "mykad")
    issue(ledger, "mykad")
    assert ledger.next(2).number == "A001"
    assert ledger.recall(2).number == "A001"
    assert ledger.no_show(2).state == "no_show"
    with pytest.raises(LedgerError, match="not serving a ticket to recall"):
        ledger.recall(2)
    ledger.next(2)
    assert ledger.done(2).state == "done"
    assert ledger.set_counter_state(2, "paused").state == "paused"
    assert [r.state for r in ledger.counters() if r.id == 2] == ["paused"]
    kinds = [e["kind"] for e in ledger.events()]
    assert kinds.count("called") == 2 and "recalled" in kinds and "no_show" in kinds and "counter_paused" in kinds


def test_transfer_keeps_number_and_place_by_original_issue_time(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    issue(ledger, "mykad")          # A001 at 09:00
    clock.advance(60)
    issue(ledger, "birth")          # B001 at 09:01
    assert ledger.next(2).number == "A001"
    moved = ledger.transfer(2, "birth")
    assert (moved.number, moved.category, moved.state) == ("A001", "birth", "waiting")
    assert ledger.next(4).number == "A001"   # issued before B001, so ahead of it


def test_feedback_once_per_ticket(ledger: Ledger) -> None:
    issue(ledger, "mykad")
    ledger.next(2)
    ledger.done(2)
    assert ledger.feedback(2, "very_good").number == "A001"
    with pytest.raises(LedgerError, match="already been rated"):
        ledger.feedback(2, "poor")


def test_numbering_restarts_each_service_day_and_keeps_history(ledger: Ledger, clock, site: SiteConfig) -> None:  # type: ignore[no-untyped-def]
    issue(ledger, "mykad")
    issue(ledger, "mykad")
    clock.set(dt.datetime(2026, 11, 25, 9, 0, tzinfo=site.site.zone))
    assert issue(ledger, "mykad") == "A001"
    assert ledger.find("A002", day="2026-11-24").state == "expired"  # type: ignore[union-attr]
    assert [t.number for t in ledger.waiting()] == ["A001"]


def test_a_night_hall_keeps_one_service_day_across_midnight(tmp_path: Path, site: SiteConfig, clock) -> None:  # type: ignore[no-untyped-def]
    night = msgspec.structs.replace(site, hours=msgspec.structs.replace(
        site.hours, open="20:00", close="02:00", days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
    cats = [msgspec.structs.replace(c, hours=None) for c in night.categories]
    night = msgspec.structs.replace(night, categories=cats)
    clock.set(dt.datetime(2026, 11, 24, 23, 59, tzinfo=site.site.zone))
    with Ledger(tmp_path / "l.sqlite", night, clock) as ledger:
        assert issue(ledger, "mykad") == "A001"
        clock.advance(120)  # 00:01 the next calendar day
        assert issue(ledger, "mykad") == "A002"
        assert ledger.find("A002").day == "2026-11-24"  # type: ignore[union-attr]


def test_day_reset_happens_in_the_sites_zone_not_utc(tmp_path: Path, site: SiteConfig) -> None:
    """A Jakarta site (UTC+7) opening 07:00 starts its day at 00:00 UTC; a ticket before that is yesterday's."""
    jakarta = msgspec.structs.replace(site, site=msgspec.structs.replace(site.site, timezone="Asia/Jakarta"),
                                      hours=msgspec.structs.replace(site.hours, open="07:00", close="23:00",
                                                                    days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
    jakarta = msgspec.structs.replace(jakarta, categories=[msgspec.structs.replace(c, hours=None) for c in jakarta.categories])
    t = [dt.datetime(2026, 11, 24, 22, 30, tzinfo=dt.UTC).timestamp()]  # 05:30 in Jakarta on the 25th: closed
    with Ledger(tmp_path / "l.sqlite", jakarta, lambda: t[0]) as ledger:
        assert ledger.service_day(t[0]) == "2026-11-24"
        assert ledger.availability("mykad") == "closed"
        t[0] = dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC).timestamp()  # 07:00 Jakarta
        assert ledger.service_day(t[0]) == "2026-11-25"
        assert issue(ledger, "mykad") == "A001"


def test_event_log_is_append_only(ledger: Ledger, tmp_path: Path) -> None:
    issue(ledger, "mykad")
    db = sqlite3.connect(tmp_path / "ledger.sqlite")
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM events")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE events SET kind = 'x'")
    finally:
        db.close()


def test_durability_settings(ledger: Ledger, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "ledger.sqlite")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()
    assert ledger._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_backup_of_a_live_ledger_and_the_day_report(ledger: Ledger, tmp_path: Path, clock, site: SiteConfig) -> None:  # type: ignore[no-untyped-def]
    from giliran.ledger_store import backup
    from giliran.report import build_report, format_report

    issue(ledger, "mykad")
    issue(ledger, "priority")
    clock.advance(600)
    ledger.next(1)   # P001 after 10 minutes
    clock.advance(300)
    ledger.done(1)
    ledger.feedback(1, "poor")
    copy = tmp_path / "backup" / "ledger.sqlite"
    assert backup(tmp_path / "ledger.sqlite", copy) == 2
    report = build_report(copy, "2026-11-24", 30, [c.id for c in site.categories])
    by = {c.category: c for c in report.categories}
    assert by["priority"].served == 1 and by["priority"].mean_wait_min == pytest.approx(10.0)
    assert by["mykad"].tickets == 1 and by["mykad"].served == 0
    assert [(f.counter, f.poor) for f in report.feedback] == [(1, 1)]
    assert "| 1 | 0 | 0 | 1 | 1 |" in format_report(report, 30)
