"""A day in the hall, the parts that used to go wrong: an empty hall, a reload, the last counter closing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from counter.commands import CounterClient
from giliran.protocol import BoardState, TechCommand, TechReply, decode
from hardware_sim.broker import LocalBroker
from hardware_sim.printer import SimulatedPrinter
from kiosk.node import KioskNode

ROOT = Path(__file__).resolve().parents[2]


class Monotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def press(node: KioskNode, pin: int) -> None:
    mock = node.pin_factory.pin(pin)
    mock.drive_low()
    mock.drive_high()
    node.presses.clock.t += 5  # type: ignore[attr-defined]  # the customer walks away


MYKAD_PIN, MARRIAGE_PIN = 6, 26


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text((ROOT / "examples" / "site.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def node(broker: LocalBroker, tmp_path: Path, clock, site_file: Path) -> Iterator[KioskNode]:  # type: ignore[no-untyped-def]
    factory = MockFactory()
    kiosk = KioskNode(broker.site, broker.credentials("kiosk"), site_path=site_file, pin_factory=factory,
                      printer=SimulatedPrinter("TM-T20II", paper_mm=80), clock=clock, monotonic=Monotonic(),
                      ledger_path=tmp_path / "ledger.sqlite")
    kiosk.start()
    kiosk.mqtt.wait_connected(5)
    try:
        yield kiosk
    finally:
        kiosk.service.close()  # no board publish after the one that clears it for the next test
        kiosk.mqtt.publish(kiosk.mqtt.topics.board, b"", retain=True).wait(5)
        kiosk.close()
        factory.close()


def test_next_in_an_empty_hall_leaves_the_counter_open(kiosk, broker, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    board = recorder()
    display = connect("display-hall", "display")
    display.subscribe(display.topics.board, board)
    board.wait_for(lambda m: {c.id: c.state for c in decode(m.payload, BoardState).counters}[2] == "closed")
    reply = CounterClient(broker.site, 2, None, node=connect("counter-2", "counter")).command("next")
    assert not reply.ok and reply.error is not None and reply.error.code == "nobody_waiting"
    board.wait_for(lambda m: {c.id: c.state for c in decode(m.payload, BoardState).counters}[2] == "open")
    assert {c.id: c.state for c in kiosk.ledger.counters()}[2] == "open"


def _drop_marriage(site_file: Path) -> None:
    text = site_file.read_text(encoding="utf-8")
    start = text.index('[[categories]]\nid = "marriage"')
    end = text.index("[[categories]]", start + 1)
    text = text[:start] + text[end:]
    site_file.write_text(text.replace('categories = ["marriage", "birth"]', 'categories = ["birth"]'),
                         encoding="utf-8")


def reload(connect) -> TechReply:  # type: ignore[no-untyped-def]
    tech = connect("technician", "technician")
    return tech.request(tech.topics.node_cmd("kiosk"), TechCommand(action="reload"), TechReply,  # type: ignore[no-any-return]
                        response_topic=tech.topics.node_reply("kiosk"))


def test_a_reload_that_would_strand_waiting_tickets_is_refused_and_names_them(
    node: KioskNode, site_file: Path, broker: LocalBroker, connect
) -> None:  # type: ignore[no-untyped-def]
    press(node, MARRIAGE_PIN)
    press(node, MARRIAGE_PIN)
    press(node, MYKAD_PIN)
    _drop_marriage(site_file)
    reply = reload(connect)
    assert not reply.ok
    assert "D001, D002" in reply.message and "'marriage'" in reply.message and "drops" in reply.message
    # Nothing changed: the marriage lamp still lights and counter 5 calls D001.
    assert any(c.id == "marriage" for c in node.ledger.site.categories)
    called = CounterClient(broker.site, 5, None, node=connect("counter-5", "counter")).command("next")
    assert called.ok and called.ticket is not None and called.ticket.number == "D001"


def test_a_reload_goes_through_once_the_dropped_category_is_served(
    node: KioskNode, site_file: Path, broker: LocalBroker, connect
) -> None:  # type: ignore[no-untyped-def]
    press(node, MARRIAGE_PIN)
    counter5 = CounterClient(broker.site, 5, None, node=connect("counter-5", "counter"))
    assert counter5.command("next").ok
    _drop_marriage(site_file)
    reply = reload(connect)
    assert reply.ok, reply.message
    assert all(c.id != "marriage" for c in node.ledger.site.categories)


def test_a_category_whose_last_counter_has_closed_is_closed_at_the_kiosk(
    node: KioskNode, broker: LocalBroker, connect, recorder
) -> None:  # type: ignore[no-untyped-def]
    from kiosk.lamps import LampMode

    printer: SimulatedPrinter = node.printer  # type: ignore[assignment]
    node.tick()
    assert node.lamps.mode("marriage") is LampMode.READY  # morning: no counter open yet, tickets for later
    counter5 = CounterClient(broker.site, 5, None, node=connect("counter-5", "counter"))  # the only marriage counter
    assert counter5.command("open").ok
    assert counter5.command("close").ok
    node.tick()
    assert node.lamps.mode("marriage") is LampMode.OFF
    assert node.lamps.mode("mykad") is LampMode.READY  # none of its counters has opened yet today
    board = recorder()
    display = connect("display-hall", "display")
    display.subscribe(display.topics.board, board)
    board.wait_for(lambda m: m.payload != b"" and {c.id: c.available for c in
                                                   decode(m.payload, BoardState).categories}.get("marriage") is False)

    press(node, MARRIAGE_PIN)
    assert node.ledger.waiting("marriage") == []
    slip = " ".join(printer.tickets()[-1].split())
    assert "No counter serves this any more today." in slip and "Tiada lagi kaunter" in slip
    assert "D001" not in slip

    assert counter5.command("open").ok  # back from a long meeting
    node.tick()
    assert node.lamps.mode("marriage") is LampMode.READY
    press(node, MARRIAGE_PIN)
    assert [t.number for t in node.ledger.waiting("marriage")] == ["D001"]
