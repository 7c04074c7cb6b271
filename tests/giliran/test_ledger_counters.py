"""The ledger seen from a counter and a board: pausing, reopening, transfers, the call record and the read models."""

from __future__ import annotations

import datetime as dt
import json
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


def test_the_event_log_records_every_action_with_ticket_category_counter_and_details(ledger: Ledger, clock) -> None:  # type: ignore[no-untyped-def]
    """Reports and the day summary are rebuilt from this log alone, so each action leaves exactly this row."""
    start = ledger.events()[-1]["seq"]
    a = ledger.reserve("mykad")
    ledger.confirm(a.id)
    clock.advance(60)
    b = ledger.reserve("mykad")
    ledger.void(b.id, "paper out")
    clock.advance(60)
    c = ledger.reserve("birth")
    ledger.confirm(c.id)
    clock.advance(60)
    ledger.next(2)
    clock.advance(30)
    ledger.recall(2)
    clock.advance(30)
    ledger.transfer(2, "birth")
    clock.advance(10)
    ledger.next(4)
    clock.advance(120)
    ledger.done(4)
    ledger.feedback(4, "good")
    clock.advance(5)
    ledger.next(4)
    ledger.no_show(4)
    ledger.set_counter_state(4, "paused")
    k = ledger.reserve("collect")
    ledger.confirm(k.id)                                   # still waiting when the day ends
    clock.advance(24 * 3600)
    d = ledger.reserve("mykad")                            # the first action of the new day expires K001 first
    t0 = a.issued_at
    rows = [(e["at"] - t0, e["day"], e["kind"], e["ticket"], e["category"], e["counter"], json.loads(e["data"]))
            for e in ledger.events(after=start)]
    est = {t.number: {"ahead": t.ahead, "est_wait_s": t.est_wait_s} for t in (a, b, c, k)}
    assert rows == [
        (0, "2026-11-24", "reserved", "A001", "mykad", None, est["A001"]),
        (0, "2026-11-24", "issued", "A001", "mykad", None, est["A001"]),
        (60, "2026-11-24", "reserved", "A002", "mykad", None, est["A002"]),
        (60, "2026-11-24", "voided", "A002", "mykad", None, {"reason": "paper out"}),
        (120, "2026-11-24", "reserved", "B001", "birth", None, est["B001"]),
        (120, "2026-11-24", "issued", "B001", "birth", None, est["B001"]),
        (180, "2026-11-24", "counter_open", None, None, 2, {}),
        (180, "2026-11-24", "called", "A001", "mykad", 2, {"promoted": False, "waited_s": 180.0}),
        (210, "2026-11-24", "recalled", "A001", "mykad", 2, {}),
        (240, "2026-11-24", "transferred", "A001", "birth", 2, {"from": "mykad"}),
        (250, "2026-11-24", "counter_open", None, None, 4, {}),
        (250, "2026-11-24", "called", "A001", "birth", 4, {"promoted": False, "waited_s": 250.0}),
        (370, "2026-11-24", "done", "A001", "birth", 4, {"service_s": 120.0}),
        (370, "2026-11-24", "feedback", "A001", "birth", 4, {"rating": "good"}),
        (375, "2026-11-24", "called", "B001", "birth", 4, {"promoted": False, "waited_s": 255.0}),
        (375, "2026-11-24", "no_show", "B001", "birth", 4, {"service_s": 0.0}),
        (375, "2026-11-24", "counter_paused", None, None, 4, {}),
        (375, "2026-11-24", "reserved", "K001", "collect", None, est["K001"]),
        (375, "2026-11-24", "issued", "K001", "collect", None, est["K001"]),
        (86775, "2026-11-25", "expired", "K001", "collect", None, {"day": "2026-11-24"}),
        (86775, "2026-11-25", "day_started", None, None, None, {"expired": 1}),
        (86775, "2026-11-25", "reserved", "A001", "mykad", None, {"ahead": d.ahead, "est_wait_s": d.est_wait_s}),
    ]
    assert ledger.ticket(k.id).state == "expired" and ledger.counters()[3].serving is None


@pytest.mark.parametrize(("action", "args", "code", "message"), [
    ("reserve", ("nope",), "unknown_category", "no category 'nope'; known: priority, mykad, birth, death, marriage, collect"),
    ("next", (99,), "unknown_counter", "no counter 99 at site jpn-putrajaya"),
    ("recall", (2,), "not_serving", "counter 2 is not serving a ticket to recall"),
    ("no_show", (2,), "not_serving", "counter 2 is not serving a ticket to mark a no-show"),
    ("done", (2,), "not_serving", "counter 2 is not serving a ticket to finish"),
    ("transfer", (2, "birth"), "not_serving", "counter 2 is not serving a ticket to transfer"),
    ("feedback", (2, "meh"), "bad_rating", "rating must be very_good, good or poor, not 'meh'"),
    ("feedback", (3, "good"), "nothing_to_rate", "counter 3 has not served anyone yet"),
    ("set_counter_state", (2, "asleep"), "bad_state", "a counter can be open, paused or closed, not 'asleep'"),
    ("ticket", (999,), "no_ticket", "no ticket with id 999"),
])
def test_refusals_name_the_problem(ledger: Ledger, action: str, args: tuple, code: str, message: str) -> None:  # type: ignore[type-arg]
    """What the counter's screen shows when staff press a key that cannot act: a stable code and a plain reason."""
    with pytest.raises(LedgerError) as info:
        getattr(ledger, action)(*args)
    assert (info.value.code, str(info.value)) == (code, message)


def test_refusals_about_a_ticket(ledger: Ledger) -> None:
    a = ledger.reserve("mykad")
    ledger.confirm(a.id)
    ledger.next(2)
    with pytest.raises(LedgerError) as same:
        ledger.transfer(2, "mykad")
    assert (same.value.code, str(same.value)) == ("same_category", "A001 is already in 'mykad'")
    ledger.done(2)
    for call, message in [(lambda: ledger.confirm(a.id), "A001 is done, not printing"),
                          (lambda: ledger.void(a.id, "x"), "A001 is done, not printing or waiting")]:
        with pytest.raises(LedgerError) as info:
            call()
        assert (info.value.code, str(info.value)) == ("bad_state", message)
    for rating in ("very_good", "good", "poor"):
        ledger.confirm(ledger.reserve("mykad").id)
        ledger.next(2)
        assert ledger.feedback(2, rating).number.startswith("A")
    with pytest.raises(LedgerError) as again:
        ledger.feedback(2, "good")
    assert (again.value.code, str(again.value)) == ("already_rated", "A004 has already been rated")
