"""The ledger seen from a counter and a board: pausing, reopening, transfers, the call record and the read models."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec
import pytest

from giliran.config import SiteConfig
from giliran.ledger import Ledger


@pytest.fixture
def ledger(tmp_path: Path, site: SiteConfig, clock) -> Ledger:  # type: ignore[no-untyped-def]
    with Ledger(tmp_path / "ledger.sqlite", site, clock) as opened:
        yield opened


def issue(ledger: Ledger, category: str) -> str:
    return ledger.confirm(ledger.reserve(category).id).number


def state_of(ledger: Ledger, counter: int) -> str:
    (row,) = [r for r in ledger.counters() if r.id == counter]
    return row.state


def test_next_on_a_paused_counter_reopens_it(ledger: Ledger) -> None:
    """Staff back from a break just press Next: the board shows the counter open again."""
    issue(ledger, "mykad")
    ledger.set_counter_state(2, "paused")
    assert state_of(ledger, 2) == "paused"
    assert ledger.next(2).number == "A001"
    assert state_of(ledger, 2) == "open"
    assert [e["kind"] for e in ledger.events()][-2:] == ["counter_open", "called"]


def test_pausing_does_not_end_the_customers_ticket(ledger: Ledger) -> None:
    """A counter paused mid-service still serves its customer; closing it finishes the ticket."""
    issue(ledger, "mykad")
    ledger.next(2)
    paused = ledger.set_counter_state(2, "paused")
    assert paused.serving is not None and paused.serving.number == "A001"
    assert ledger.find("A001").state == "called"  # type: ignore[union-attr]
    assert ledger.recall(2).number == "A001"
    closed = ledger.set_counter_state(2, "closed")
    assert closed.serving is None and ledger.find("A001").state == "done"  # type: ignore[union-attr]


def test_a_ticket_transferred_to_an_empty_service_joins_the_rotation_without_jumping_it(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    """Counter 1 serves priority and MyKad. After four MyKad calls, A004 is sent to priority (empty till then):
    it is called first (its place by issue time), but priority then gets its two-in-three share, not a burst."""
    for _ in range(8):
        issue(ledger, "mykad")
        clock.advance(1)
    assert [ledger.next(1).number for _ in range(4)] == ["A001", "A002", "A003", "A004"]
    ledger.transfer(1, "priority")
    issue(ledger, "priority")
    clock.advance(1)
    issue(ledger, "priority")
    assert [ledger.next(1).number for _ in range(5)] == ["A004", "P001", "A005", "P002", "A006"]


def test_a_call_records_who_went_where_and_how_long_they_waited(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    """The 'called' event feeds the boards' previous calls, the report's waits and promotions, and the estimate."""
    issue(ledger, "mykad")
    clock.advance(300)
    ledger.next(2)
    called = [e for e in ledger.events() if e["kind"] == "called"]
    assert [(e["ticket"], e["category"], e["counter"], e["at"]) for e in called] == [("A001", "mykad", 2, clock())]
    assert json.loads(called[0]["data"]) == {"promoted": False, "waited_s": 300.0}
    clock.advance(3600)
    issue(ledger, "priority")
    clock.advance(16 * 60)
    ledger.next(1)
    (late,) = [json.loads(e["data"]) for e in ledger.events() if e["kind"] == "called" and e["ticket"] == "P001"]
    assert late == {"promoted": True, "waited_s": 960.0}


def test_recent_calls_newest_first_with_recalls_and_only_today(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        issue(ledger, "mykad")
    ledger.next(2)
    clock.advance(10)
    ledger.next(3)
    clock.advance(10)
    ledger.recall(2)
    calls = ledger.recent_calls()
    assert [(c.number, c.counter, c.recall) for c in calls] == [("A001", 2, True), ("A002", 3, False),
                                                               ("A001", 2, False)]
    assert calls[0].at == clock() and calls[0].call_id > calls[1].call_id > calls[2].call_id
    assert [c.number for c in ledger.recent_calls(limit=1)] == ["A001"]
    clock.advance(24 * 3600)
    assert ledger.recent_calls() == []


def test_loads_waiting_count_and_issued_today(ledger: Ledger, clock, site: SiteConfig) -> None:  # type: ignore[no-untyped-def]
    """What the kiosk screen and the boards show per service: how many wait, the wait, whether it is open."""
    clock.set(dt.datetime(2026, 11, 24, 8, 15, tzinfo=site.site.zone))  # marriage opens 08:30
    issue(ledger, "mykad")
    issue(ledger, "mykad")
    ledger.void(ledger.reserve("mykad").id, "paper out")  # A003 never issued, never reused
    issue(ledger, "birth")
    loads = {load.category: load for load in ledger.loads()}
    assert list(loads) == [c.id for c in site.categories]
    assert (loads["mykad"].waiting, loads["birth"].waiting, loads["priority"].waiting) == (2, 1, 0)
    assert loads["mykad"].available and not loads["marriage"].available
    assert ledger.waiting_count() == 3
    assert ledger.issued_today() == {"priority": 0, "mykad": 3, "birth": 1, "death": 0, "marriage": 0, "collect": 0}
    ledger.next(2)
    assert ledger.waiting_count() == 2 and ledger.loads()[1].waiting == 1


def test_reload_takes_a_new_counter_and_category_without_restart(ledger: Ledger, site: SiteConfig) -> None:
    issue(ledger, "mykad")
    passport = msgspec.structs.replace(site.category("collect"), id="passport", prefix="M")
    counter7 = msgspec.structs.replace(site.counters[0], id=7, categories=["passport", "mykad"])
    bigger = msgspec.structs.replace(site, categories=[*site.categories, passport],
                                     counters=[*site.counters, counter7])
    ledger.reload(bigger)
    assert ledger.site is bigger
    assert issue(ledger, "passport") == "M001"
    assert [r.id for r in ledger.counters()][-1] == 7 and state_of(ledger, 7) == "closed"
    assert ledger.next(7).number == "A001"   # the waiting ticket is still there, now served at counter 7
    assert [e["kind"] for e in ledger.events()].count("config_reloaded") == 1
