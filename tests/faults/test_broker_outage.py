"""The broker stops mid-morning and comes back: what the hall sees, and what happens to commands sent meanwhile.

The virtual office (real Mosquitto, real kiosk, counter and display nodes) with
the broker process stopped for OUTAGE_S seconds. While it is down the boards
must say so; the kiosk keeps printing tickets; a counter whose node knows it is
offline refuses keys with WAIT; a counter that had not noticed (its command
went to paho's queue, as when a cable is pulled) gets a clear error, and paho's
late re-send after reconnect is refused by the kiosk as stale, not executed.
Within 5 s of the broker's return every board is live again and shows what the
ledger says, including a call made at the kiosk while they were away.

The site's ``calling.command_expiry_s`` is 5 s here (10 s by default) so that
the outage can be shorter than a default expiry would need.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec
import pytest

from display.node import DisplayNode
from display.theme import theme_for
from giliran.mqtt import MqttNode
from giliran.protocol import CounterReply, decode
from hardware_sim.office import SimClock, VirtualOffice

OUTAGE_S = 8.0
EXPIRY_S = 5
BACK_WITHIN_S = 5.0


@pytest.fixture
def sim_clock(site) -> SimClock:  # type: ignore[no-untyped-def]
    return SimClock(dt.datetime(2026, 11, 24, 9, 0, tzinfo=site.site.zone).timestamp())


@pytest.fixture
def office(site, tmp_path: Path, sim_clock: SimClock, voices_dir: Path) -> Iterator[VirtualOffice]:  # type: ignore[no-untyped-def]
    site = msgspec.structs.replace(site, calling=msgspec.structs.replace(site.calling, command_expiry_s=EXPIRY_S))
    with VirtualOffice(site, tmp_path, clock=sim_clock, voices_dir=voices_dir) as running:
        yield running


def banner_shown(board: DisplayNode) -> bool:
    """What a customer sees: the offline banner's strip is drawn in the banner colour."""
    layout = board.view.layout
    if layout is None or layout.banner is None:
        return False
    colour = tuple(board.surface.get_at((layout.banner.left + 2, layout.banner.top + 2)))[:3]
    return colour == tuple(theme_for(board.config.theme).banner)[:3]


def called_by(office: VirtualOffice, counter: int) -> list[str]:
    assert office.kiosk is not None
    return [e["ticket"] for e in office.kiosk.ledger.events() if e["kind"] == "called" and e["counter"] == counter]


@pytest.mark.faults
def test_broker_outage_boards_commands_and_recovery(office: VirtualOffice, sim_clock: SimClock, recorder,  # type: ignore[no-untyped-def]
                                                    summaries) -> None:
    ledger_summary, board_summary = summaries
    ledger_file = office.workdir / "ledger.sqlite"
    kiosk = office.kiosk
    assert kiosk is not None
    boards = list(office.boards.values())
    pa = office.board("hall").announcer
    assert pa is not None
    recordings = pa._player.recordings  # type: ignore[attr-defined]
    tech = MqttNode(office.site, "technician", "technician", office.broker.credentials("technician"))
    replies = recorder()
    tech.subscribe(tech.topics.counter_reply("+"), replies)
    tech.start()
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        tech.wait_connected(10)

        def boards_right() -> bool:
            truth = ledger_summary(ledger_file)
            return all(b.online() and b.state is not None and board_summary(b.state) == truth for b in boards)

        # The morning so far: five customers, counter 1 calls the first priority ticket.
        for category in "AAPKB":
            office.press(category)
            # Counter 1 learns the kiosk's time from live boards: let it see one before the simulated
            # clock jumps (a board delivered after a jump reads as old; in a hall boards arrive in ms).
            office.settle(lambda: office.counter(1).kiosk_time.now() is not None)
            sim_clock.advance(10)
        first = office.counter(1).press("next")
        assert first is not None and first.ok and first.ticket is not None and first.ticket.number == "P001"
        office.settle(boards_right)
        office.settle(lambda: [r.label for r in recordings()] == ["P001-counter1"] if recordings() else False)
        sim_clock.advance(30)  # the announcement has finished

        # --- the broker goes away --------------------------------------------------------
        office.broker.stop()
        down_at = time.monotonic()
        office.settle(lambda: not any(b.online() for b in boards) and not kiosk.mqtt.connected
                      and not any(c.mqtt.connected for c in office.counters.values()))
        office.frame()
        assert all(banner_shown(b) for b in boards), "every board shows the offline banner"

        # Counter 2 knows it is offline: the key is refused with WAIT and nothing is sent.
        refused = office.counter(2).desk.stats.refused
        assert office.counter(2).press("next") is None
        assert office.counter(2).desk.stats.refused == refused + 1
        office.counter_boards[2].wait_for(lambda line: line.startswith("WAIT"))

        # Counter 4's command went out as the link died: paho queues it; staff get a clear error.
        stale = pool.submit(office.counter(4).client.command, "next")

        # The kiosk keeps issuing tickets, and a call is made at the kiosk while the boards are away.
        sim_clock.advance(10)
        office.press("P")
        assert "P002" in office.printer.tickets()[-1]
        sim_clock.advance(10)
        away_call = kiosk.ledger.next(3)
        kiosk.service.changed()
        assert away_call.number == "A001"

        with pytest.raises(TimeoutError, match="no acknowledgement for a publish to .*/counter/4/cmd"):
            stale.result(10)
        while (left := OUTAGE_S - (time.monotonic() - down_at)) > 0:
            office.frame()
            time.sleep(min(left, 0.1))
        office.frame()
        assert all(banner_shown(b) and not b.online() for b in boards), "still offline at the end of the outage"

        # --- the broker is back ------------------------------------------------------------
        office.broker.start()
        back_at = time.monotonic()
        office.settle(boards_right, timeout=BACK_WITHIN_S)
        took = time.monotonic() - back_at
        office.frame()
        assert not any(banner_shown(b) for b in boards), "the banner goes when the boards are live again"
        for b in boards:
            assert b.state is not None
            assert {c.id: c.serving for c in b.state.counters}[3] == "A001"
            assert max(b.state.calls, key=lambda c: c.call_id).number == "A001"
        office.settle(lambda: len(recordings()) == 2)
        assert [r.label for r in recordings()] == ["P001-counter1", "A001-counter3"], "the away call, announced once"

        # The command paho re-sent after reconnect is refused as stale, not executed late.
        late = replies.wait_for(lambda m: m.topic.endswith("/counter/4/reply"), timeout=5)
        late_reply = decode(late.payload, CounterReply)
        assert not late_reply.ok and late_reply.error is not None and late_reply.error.code == "stale_command"
        assert "press the key again" in late_reply.error.message
        assert called_by(office, 4) == []

        # Counter 2 presses again once back: it succeeds, once.
        office.counter(2).mqtt.wait_connected(5)
        sim_clock.advance(5)
        again = office.counter(2).press("next")
        assert again is not None and again.ok and again.ticket is not None
        assert called_by(office, 2) == [again.ticket.number]
        office.settle(boards_right)
        assert called_by(office, 1) == ["P001"] and called_by(office, 3) == ["A001"]
        print(f"\nbroker outage: {OUTAGE_S:.0f} s; boards offline={len(boards)}; WAIT refusals=1; "
              f"stale command refused={late_reply.error.code}; boards right {took:.1f} s after the broker's return; "
              f"calls per counter {{1: 1, 2: 1, 3: 1, 4: 0}}; announcements {[r.label for r in recordings()]}")
        assert took <= BACK_WITHIN_S
    finally:
        pool.shutdown(wait=True)
        tech.stop()
