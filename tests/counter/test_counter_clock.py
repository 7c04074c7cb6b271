"""A counter Pi whose clock is wrong: its keys still work, and a technician sees the offset."""

from __future__ import annotations

import datetime as dt
import time

from giliran.kiosk_time import KioskTime
from giliran.protocol import NodeStatus, decode
from kiosk.service import LedgerService


def issue(service: LedgerService, category: str) -> str:
    ticket = service.ledger.confirm(service.ledger.reserve(category).id)
    service.changed("issued", ticket)   # a live board state, as after every press at the kiosk
    return ticket.number


def test_a_counter_a_day_behind_calls_and_shows_its_offset(kiosk, make_node, board, clock, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    technician = connect("technician", "technician")
    statuses = recorder()
    technician.subscribe(technician.topics.status("counter-2"), statuses)
    node = make_node(2, wall=lambda: time.time() - 86400)   # fake-hwclock from yesterday, no NTP
    issue(kiosk, "mykad")
    issue(kiosk, "mykad")
    deadline = time.monotonic() + 5
    while node.kiosk_time.now() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert node.kiosk_time.now() is not None, "the counter learns the kiosk's time from a live board state"
    for expected in ("A001", "A002"):
        clock.advance(2)                    # past the key's repeat guard
        reply = node.press("next")
        assert reply is not None and reply.ok, reply
        assert reply.ticket is not None and reply.ticket.number == expected
    assert board.wait_for(lambda line: line.startswith("A002"))
    offset = time.time() - 86400 - kiosk.ledger.now()    # the counter's wall clock minus the kiosk's time
    msg = statuses.wait_for(lambda m: isinstance(decode(m.payload, NodeStatus).details.get("clock_offset_s"), int))
    # The kiosk's clock here is the test's, standing still, while the counter's runs: allow a few seconds.
    assert abs(decode(msg.payload, NodeStatus).details["clock_offset_s"] - offset) <= 30  # type: ignore[operator]


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_kiosk_time_comes_from_live_boards_only_and_ignores_our_own_clock_steps() -> None:
    wall, mono = Clock(1_000_000.0), Clock(50.0)
    kiosk = KioskTime(wall, mono)
    board_time = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
    kiosk.observe(board_time, live=False)   # the retained copy may be a minute old
    assert kiosk.now() is None and kiosk.offset_s() is None
    kiosk.observe(board_time, live=True)
    mono.t += 30
    wall.t -= 3600                          # this Pi's own clock steps back: kiosk time does not care
    assert kiosk.now() == board_time + dt.timedelta(seconds=30)
    assert kiosk.offset_s() == round(wall.t - (board_time.timestamp() + 30))
    kiosk.observe(board_time - dt.timedelta(seconds=40), live=True)  # queued in the broker while we were away
    assert kiosk.now() == board_time + dt.timedelta(seconds=30)
    kiosk.observe(board_time + dt.timedelta(seconds=31), live=True)  # a fresher reading raises it
    assert kiosk.now() == board_time + dt.timedelta(seconds=31)
