"""The forward-run estimate against cases worked by hand (times in seconds from ``NOW``)."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from giliran import estimate as e
from giliran.rules import Candidate, CategoryRule

NOW = 1_000_000.0
FLAT = {"A": CategoryRule(1, 3600.0), "P": CategoryRule(2, 3600.0)}
FIXED = {"A": e.ServiceTime(300.0, 0.0), "P": e.ServiceTime(300.0, 0.0)}
DAY = (e.Shift(NOW - 3600, NOW + 8 * 3600),)


def state(counters: tuple[e.CounterNow, ...], waiting: tuple[Candidate, ...] = (), **kw: object) -> e.QueueState:
    base: dict[str, object] = dict(
        now=NOW, waiting=waiting, passes={"A": 0.0, "P": 0.0}, rules=FLAT, counters=counters, service=FIXED,
        roster={c.id: DAY for c in counters}, arrivals={})
    base.update(kw)
    return e.QueueState(**base)  # type: ignore[arg-type]


def a(i: int, ago: float, cat: str = "A") -> Candidate:
    return Candidate(i, cat, NOW - ago)


def test_one_counter_serves_its_current_customer_then_the_queue_in_order() -> None:
    # Current customer called 120 s ago, 300 s services: free at 180; A1 at 180, A2 at 480, the new one at 780.
    s = state((e.CounterNow(1, ("A",), "open", NOW - 120, "A"),), (a(1, 60), a(2, 30)))
    assert e.simulate(s, "A") == 780.0
    assert e.estimate(s, "A") == e.Estimate(780.0)  # fixed services: every sampled run agrees
    assert e.simulate(s, "A", ticket_id=2) == 480.0  # an issued ticket's own place
    assert e.estimate(s, "A", ticket_id=99) == e.Estimate(None)  # not waiting (called, gone): no estimate


def test_two_counters_sharing_categories_follow_the_weights() -> None:
    # Both idle. Counter 1 (P, A): P1 first (pass after call 0.5 < 1.0); counter 2 (A): A1.
    # At 300 counter 1 takes A2; at 600 counter 2 takes the new ticket.
    s = state((e.CounterNow(1, ("P", "A"), "open"), e.CounterNow(2, ("A",), "open")),
              (a(1, 100), a(2, 90), a(3, 80, "P")),
              service={"A": e.ServiceTime(600.0, 0.0), "P": e.ServiceTime(300.0, 0.0)})
    assert e.simulate(s, "A") == 600.0
    assert e.simulate(s, "A", ticket_id=2) == 300.0
    assert e.simulate(s, "P", ticket_id=3) == 0.0


def test_a_priority_surge_still_to_come_delays_a_normal_ticket() -> None:
    # One counter, P weight 2. A1 called at 0 (A pass 1). P arrives at 150, 450, 750 (12 an hour) and joins at
    # the lowest waiting pass: at 300 P (1.5) beats A (2), at 600 P wins the tie at 2 by weight, at 900 A's turn.
    surge = {"P": (e.Rate(NOW, NOW + 3600, 12.0),)}
    s = state((e.CounterNow(1, ("P", "A"), "open"),), (a(1, 10),), arrivals=surge)
    assert e.simulate(s, "A") == 900.0
    assert e.simulate(state((e.CounterNow(1, ("P", "A"), "open"),), (a(1, 10),)), "A") == 300.0


def test_a_counter_opening_later_says_when_and_counts_from_then() -> None:
    later = (e.Shift(NOW + 1800, NOW + 7200),)
    s = state((e.CounterNow(1, ("A",), "closed"),), (a(1, 60),), roster={1: later})
    assert e.estimate(s, "A") == e.Estimate(2100.0, opens_at=NOW + 1800)
    assert e.estimate(s, "A", runs=0) == e.Estimate(2100.0, opens_at=NOW + 1800)


def test_all_counters_closed_for_the_rest_of_the_day_is_no_counter() -> None:
    counters = (e.CounterNow(1, ("A",), "closed"), e.CounterNow(2, ("A", "P"), "paused"))
    s = state(counters, (a(1, 60),), roster={1: (), 2: ()})
    assert e.estimate(s, "A") == e.Estimate(None, None, no_counter=True)
    open_p = state((e.CounterNow(1, ("A",), "closed"), e.CounterNow(2, ("P",), "open")), roster={1: (), 2: DAY})
    assert e.estimate(open_p, "A").no_counter and not e.estimate(open_p, "P").no_counter


def test_a_break_in_the_roster_holds_the_counter_until_it_ends() -> None:
    # Free at 180, but on a break from 100 to 1000: A1 at 1000, the new ticket at 1300.
    roster = {1: (e.Shift(NOW - 3600, NOW + 100), e.Shift(NOW + 1000, NOW + 7200))}
    s = state((e.CounterNow(1, ("A",), "open", NOW - 120, "A"),), (a(1, 60),), roster=roster)
    assert e.simulate(s, "A") == 1300.0


def test_at_closing_time_a_counter_serves_those_already_waiting() -> None:
    roster = {1: (e.Shift(NOW - 3600, NOW + 100),)}
    s = state((e.CounterNow(1, ("A",), "open", NOW - 120, "A"),), (a(1, 60),), roster=roster)
    assert e.simulate(s, "A") == 480.0


def test_no_shows_and_the_time_staff_take_to_call_are_in_every_service() -> None:
    # Each call keeps the counter 0.8 * 300 + 0.2 * 100 + 15 = 275 s; an idle counter calls 15 s after it opens.
    s = state((e.CounterNow(1, ("A",), "open"),), (a(1, 60), a(2, 50)), no_show_share=0.2, no_show_s=100.0,
              call_gap_s=15.0)
    assert e.simulate(s, "A") == 15.0 + 2 * 275.0


def test_an_idle_counter_calls_an_arrival_after_the_call_gap() -> None:
    # Counter 1 (P) is idle; P1 arrives at 150 and counter 1 calls it at 170. Counter 2 (P, A) is free at
    # 200 + 20 and finds only the new A ticket (had counter 1 not woken, P1 would have come first: 520).
    s = state((e.CounterNow(1, ("P",), "open"), e.CounterNow(2, ("P", "A"), "open", NOW - 100, "A")),
              arrivals={"P": (e.Rate(NOW, NOW + 300, 12.0),)}, call_gap_s=20.0)
    assert e.simulate(s, "A") == 220.0
    assert e.simulate(s, "P") == 20.0  # a new P ticket, issued now: the idle counter calls it after the gap


def test_residual_service_time_matches_numerical_integration() -> None:
    assert e.residual_s(e.ServiceTime(300.0, 0.0), 120.0) == 180.0
    assert e.residual_s(e.ServiceTime(300.0, 0.0), 400.0) == 0.0
    assert e.residual_s(e.ServiceTime(300.0, 150.0), 0.0) == 300.0
    assert e.residual_s(e.ServiceTime(300.0, 150.0), 100_000.0) == 0.0  # past any plausible service: ends now
    sigma = math.sqrt(math.log(1.25))
    mu = math.log(300.0) - sigma * sigma / 2

    def density(x: float) -> float:
        return math.exp(-((math.log(x) - mu) ** 2) / (2 * sigma * sigma)) / (x * sigma * math.sqrt(2 * math.pi))

    xs = [300.0 + (i + 0.5) * 0.5 for i in range(40_000)]  # midpoints up to 20,300 s
    mass = sum(density(x) for x in xs) * 0.5
    tail = sum((x - 300.0) * density(x) for x in xs) * 0.5
    assert e.residual_s(e.ServiceTime(300.0, 150.0), 300.0) == pytest.approx(tail / mass, rel=1e-3)


def test_the_printed_estimate_is_reproducible_and_the_median_of_sampled_runs() -> None:
    spread = {"A": e.ServiceTime(300.0, 120.0), "P": e.ServiceTime(300.0, 120.0)}
    s = state((e.CounterNow(1, ("A",), "open"),), tuple(a(i, 100 - i) for i in range(1, 6)), service=spread)
    first = e.estimate(s, "A")
    assert first == e.estimate(s, "A")
    rng = random.Random(e._seed(s, "A", e.NEW_TICKET))
    waits = [e.simulate(s, "A", rng=rng) or 0.0 for _ in range(e.RUNS)]
    assert first.wait_s == statistics.median(waits) and min(waits) < first.wait_s < max(waits)
    assert e.simulate(s, "A") == 1500.0  # the deterministic run: six services of 300 s, the counter idle now
    other = e.estimate(e.QueueState(**{**s.__dict__, "now": NOW + 1}), "A")
    assert other != first  # another ticket (another moment) draws other samples


def test_a_ticket_nobody_will_ever_call_gets_no_wait() -> None:
    s = state((e.CounterNow(1, ("P",), "open"), e.CounterNow(2, ("A",), "closed")), roster={1: DAY, 2: ()})
    assert e.estimate(s, "A").no_counter
    gone = state((e.CounterNow(1, ("A",), "closed"),), roster={1: (e.Shift(NOW - 7200, NOW - 3600),)})
    assert e.estimate(gone, "A") == e.Estimate(None, None, no_counter=True)


def test_customers_still_to_come_arrive_mid_gap_at_the_profile_rate() -> None:
    # 4 an hour: one every 900 s, the first half a gap in (450). The counter is free at 1000 (busy since -200
    # with a fixed 1200 s service); a P that has arrived by then goes first (weight 2), the new A 300 s later.
    def wait_with(rate: e.Rate) -> float | None:
        s = state((e.CounterNow(1, ("P", "A"), "open", NOW - 200, "A"),), arrivals={"P": (rate,)},
                  service={"A": e.ServiceTime(1200.0, 0.0), "P": e.ServiceTime(300.0, 0.0)})
        return e.simulate(s, "A")

    assert wait_with(e.Rate(NOW, NOW + 3600, 4.0)) == 1300.0          # P at 450
    assert wait_with(e.Rate(NOW, NOW + 400, 4.0)) == 1000.0           # under half a gap open: nobody comes
    assert wait_with(e.Rate(NOW + 600, NOW + 4200, 4.0)) == 1000.0    # P at 1050: after the call
    assert wait_with(e.Rate(NOW - 3600, NOW + 3600, 4.0)) == 1300.0   # a rate begun before now counts from now
    assert wait_with(e.Rate(NOW, NOW + 3600, 0.0)) == 1000.0
