"""The calling rule (giliran.rules) on hand-worked cases: what a counter calls, and when it says 'overdue'."""

from __future__ import annotations

from pathlib import Path

import msgspec

from giliran.config import SiteConfig
from giliran.ledger import Ledger
from giliran.rules import Candidate, CategoryRule, Choice, choose

NOW = 10_000.0
RULES = {
    "priority": CategoryRule(weight=2, max_wait_s=15 * 60.0),
    "mykad": CategoryRule(weight=1, max_wait_s=60 * 60.0),
    "death": CategoryRule(weight=1, max_wait_s=30 * 60.0),
}


def waited(ticket_id: int, category: str, minutes: float) -> Candidate:
    return Candidate(ticket_id, category, NOW - minutes * 60.0)


def test_nobody_waiting_means_no_call() -> None:
    assert choose([], RULES, {}, NOW) is None


def test_of_two_overdue_tickets_the_one_furthest_past_its_limit_goes_first() -> None:
    # P waited 20 min (5 past its 15), A waited 70 min (10 past its 60): A has been kept longest past its promise.
    p = waited(1, "priority", 20)
    a = waited(2, "mykad", 70)
    assert choose([p, a], RULES, {}, NOW) == Choice(2, "mykad", overdue=True)
    # ... and the other way round when P is further past: 20 min past vs 1 min past.
    p_late = waited(3, "priority", 35)
    a_just = waited(4, "mykad", 61)
    assert choose([a_just, p_late], RULES, {}, NOW) == Choice(3, "priority", overdue=True)


def test_two_overdue_equally_late_the_one_issued_first_goes() -> None:
    # Both 5 min past their limits; the death ticket was issued earlier (35 min ago vs 20).
    p = waited(1, "priority", 20)
    c = waited(2, "death", 35)
    assert choose([p, c], RULES, {}, NOW) == Choice(2, "death", overdue=True)
    # Same issue time and lateness: the lower ticket id (taken first at the kiosk) goes.
    twin_a, twin_b = waited(8, "mykad", 61), waited(7, "mykad", 61)
    assert choose([twin_a, twin_b], RULES, {}, NOW) == Choice(7, "mykad", overdue=True)


def test_overdue_means_longer_than_the_limit_not_equal_to_it() -> None:
    at_limit = waited(1, "priority", 15)
    assert choose([at_limit, waited(2, "mykad", 1)], RULES, {"priority": 5.0}, NOW) == Choice(2, "mykad", False)
    half_second_past = Candidate(1, "priority", NOW - 15 * 60.0 - 0.5)
    assert choose([half_second_past, waited(2, "mykad", 1)], RULES, {"priority": 5.0}, NOW) == \
        Choice(1, "priority", overdue=True)


def test_a_call_by_the_ratio_is_not_marked_overdue() -> None:
    """Only the waiting-time override counts as 'promoted' in the day report."""
    assert choose([waited(1, "mykad", 59)], RULES, {}, NOW) == Choice(1, "mykad", overdue=False)


def test_a_category_never_called_today_counts_from_zero() -> None:
    # MyKad has been called once (pass 1.0 = 1 call / weight 1); priority never: priority goes.
    assert choose([waited(1, "mykad", 5), waited(2, "priority", 1)], RULES, {"mykad": 1.0}, NOW).category == "priority"
    # MyKad's pass 0, priority unknown: after a call priority would be at 0.5, MyKad at 1: priority.
    assert choose([waited(1, "mykad", 5), waited(2, "priority", 1)], RULES, {"mykad": 0.0}, NOW).category == "priority"


def test_a_pass_counts_calls_divided_by_weight() -> None:
    # Priority called twice (pass 2 / 2 = 1.0), MyKad once (1 / 1 = 1.0): next priority call
    # takes it to 1.5, a MyKad call to 2.0, so priority goes.
    assert choose([waited(1, "mykad", 5), waited(2, "priority", 1)], RULES,
                  {"priority": 1.0, "mykad": 1.0}, NOW).category == "priority"
    # Priority called twice (1.0), MyKad never (0.0): MyKad's call takes it to 1.0, priority's to 1.5.
    assert choose([waited(1, "mykad", 5), waited(2, "priority", 1)], RULES,
                  {"priority": 1.0, "mykad": 0.0}, NOW).category == "mykad"


def test_equal_passes_after_the_call_go_to_the_heavier_weight_then_the_older_head() -> None:
    # Priority at 0.5 and MyKad at 0: both would be at 1.0 after a call; priority's weight is higher.
    assert choose([waited(1, "mykad", 9), waited(2, "priority", 1)], RULES,
                  {"priority": 0.5, "mykad": 0.0}, NOW).category == "priority"
    # MyKad and death (both weight 1, both at 0): the one whose head ticket is older.
    assert choose([waited(1, "death", 2), waited(2, "mykad", 9)], RULES, {}, NOW).category == "mykad"
    assert choose([waited(1, "death", 9), waited(2, "mykad", 2)], RULES, {}, NOW).category == "death"


def test_within_a_category_the_oldest_ticket_goes_first() -> None:
    tickets = [waited(5, "mykad", 3), waited(6, "mykad", 12), waited(7, "mykad", 7)]
    assert choose(tickets, RULES, {}, NOW) == Choice(6, "mykad", overdue=False)
    same_time = [Candidate(9, "mykad", NOW - 60), Candidate(4, "mykad", NOW - 60)]
    assert choose(same_time, RULES, {}, NOW) == Choice(4, "mykad", overdue=False)


def test_priority_returning_after_mykad_calls_does_not_take_a_burst(tmp_path: Path, site: SiteConfig, clock) -> None:  # type: ignore[no-untyped-def]
    """After six MyKad calls with no priority customer, arriving priority customers get two in three calls, not all."""
    cats = [msgspec.structs.replace(c, max_wait_min=1440) for c in site.categories]
    with Ledger(tmp_path / "l.sqlite", msgspec.structs.replace(site, categories=cats), clock) as ledger:
        for _ in range(12):
            ledger.confirm(ledger.reserve("mykad").id)
            clock.advance(1)
        assert [ledger.next(1).number for _ in range(6)] == ["A001", "A002", "A003", "A004", "A005", "A006"]
        for _ in range(6):
            ledger.confirm(ledger.reserve("priority").id)
            clock.advance(1)
        calls = "".join(ledger.next(1).number[0] for _ in range(6))
    assert calls == "PPAPPA"


def test_two_overdue_at_one_counter_through_the_ledger(tmp_path: Path, site: SiteConfig, clock) -> None:  # type: ignore[no-untyped-def]
    """The counter calls the customer kept longest past their category's limit, and the report marks both promoted."""
    with Ledger(tmp_path / "l.sqlite", site, clock) as ledger:
        ledger.confirm(ledger.reserve("mykad").id)          # A001, limit 60 min
        clock.advance(30 * 60)
        ledger.confirm(ledger.reserve("priority").id)       # P001, limit 15 min
        clock.advance(40 * 60)                              # A001 70 min (10 past), P001 40 min (25 past)
        first, second = ledger.next(1), ledger.next(1)
    assert (first.number, first.promoted) == ("P001", True)
    assert (second.number, second.promoted) == ("A001", True)
