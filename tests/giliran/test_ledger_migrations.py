"""Schema versions: a ledger written by the first released Giliran is upgraded at open, losing nothing.

The fixture ``fixtures/ledger-v0.sqlite`` was written by the code before
schema versions existed (see fixtures/make_ledger_v0.py): two service days at
the example site, with tickets in every state and one still printing.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import msgspec
import pytest

from giliran.config import SiteConfig
from giliran.errors import LedgerError
from giliran.ledger import Ledger
from giliran.ledger_store import VERSION
from tests.conftest import FakeClock
from tests.giliran.invariants import check_invariants

FIXTURE = Path(__file__).parent / "fixtures" / "ledger-v0.sqlite"


def fixture_site(site: SiteConfig) -> SiteConfig:
    """The site the fixture was written with (make_ledger_v0.fixture_site: no quotas)."""
    return msgspec.structs.replace(site, categories=[msgspec.structs.replace(c, quota=None) for c in site.categories])


def raw(path: Path, query: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return [tuple(r) for r in db.execute(query)]
    finally:
        db.close()


@pytest.fixture
def old_ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    shutil.copy(FIXTURE, path)
    return path


def test_the_fixture_is_a_v0_ledger() -> None:
    assert raw(FIXTURE, "PRAGMA user_version") == [(0,)]
    states = dict(raw(FIXTURE, "SELECT state, COUNT(*) FROM tickets GROUP BY state"))
    assert set(states) == {"printing", "waiting", "called", "done", "no_show", "voided", "expired"}


def test_a_v0_ledger_is_backed_up_then_upgraded_keeping_every_ticket_event_and_number(
        old_ledger: Path, site: SiteConfig) -> None:
    tickets_before = raw(old_ledger, "SELECT * FROM tickets ORDER BY id")
    events_before = raw(old_ledger, "SELECT * FROM events ORDER BY seq")
    waiting_before = [r[0] for r in raw(old_ledger, "SELECT number FROM tickets WHERE state = 'waiting'"
                                                    " AND category = 'mykad' ORDER BY issued_at, id")]
    today_mykad = {r[0] for r in raw(old_ledger, "SELECT number FROM tickets WHERE day = '2026-11-24'"
                                                 " AND prefix = 'A'")}
    clock = FakeClock(dt.datetime(2026, 11, 24, 10, 40, tzinfo=site.site.zone))

    with Ledger(old_ledger, fixture_site(site), clock) as ledger:
        # Every old ticket is still there, as it was; the one the kiosk died printing is voided, as at any open.
        after = {r["id"]: tuple(r) for r in ledger._db.execute("SELECT * FROM tickets")}
        for row in tickets_before:
            now = after[row[0]]
            if row[8] == "printing":
                assert now[8] == "voided" and now[:8] == row[:8]
            else:
                assert now == row, f"ticket {row[4]} changed"
        # The event log is the old one plus what this open appended.
        events_after = [tuple(r) for r in ledger._db.execute("SELECT * FROM events ORDER BY seq")]
        assert events_after[: len(events_before)] == events_before
        check_invariants(ledger._db)
        # The queue is in the same order, and numbering carries on with no repeat.
        assert [t.number for t in ledger.waiting("mykad")] == waiting_before
        number = ledger.confirm(ledger.reserve("mykad").id).number
        assert number not in today_mykad
        assert int(number[1:]) == max(int(n[1:]) for n in today_mykad) + 1
        assert ledger.next(2).number == waiting_before[0]

    assert raw(old_ledger, "PRAGMA user_version") == [(VERSION,)]
    backup = old_ledger.with_name("ledger.sqlite.v0.bak")
    assert raw(backup, "PRAGMA user_version") == [(0,)]
    assert raw(backup, "SELECT * FROM tickets ORDER BY id") == tickets_before
    assert raw(backup, "SELECT * FROM events ORDER BY seq") == events_before


def test_an_upgraded_ledger_opens_again_without_a_new_backup(old_ledger: Path, site: SiteConfig) -> None:
    clock = FakeClock(dt.datetime(2026, 11, 24, 10, 40, tzinfo=site.site.zone))
    Ledger(old_ledger, fixture_site(site), clock).close()
    Ledger(old_ledger, fixture_site(site), clock).close()
    assert sorted(p.name for p in old_ledger.parent.iterdir() if p.name.endswith(".bak")) == ["ledger.sqlite.v0.bak"]


def test_a_new_ledger_starts_at_the_current_version_with_no_backup(tmp_path: Path, site: SiteConfig,
                                                                    clock: FakeClock) -> None:
    Ledger(tmp_path / "ledger.sqlite", site, clock).close()
    assert raw(tmp_path / "ledger.sqlite", "PRAGMA user_version") == [(VERSION,)]
    assert not list(tmp_path.glob("*.bak"))


def test_a_ledger_from_a_newer_giliran_is_refused_untouched(old_ledger: Path, site: SiteConfig,
                                                             clock: FakeClock) -> None:
    db = sqlite3.connect(old_ledger)
    db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    before = old_ledger.read_bytes()
    with pytest.raises(LedgerError, match=f"schema v{VERSION + 1}; this Giliran knows up to v{VERSION}") as info:
        Ledger(old_ledger, fixture_site(site), clock)
    assert info.value.code == "ledger_too_new"
    assert old_ledger.read_bytes() == before
