"""The kiosk as a customer meets it: press a mock pin, read the simulated paper, watch the lamps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from gpiozero.pins.mock import MockFactory

from giliran.protocol import ErrorEvent, NodeStatus, TechCommand, TechReply, decode
from hardware_sim.broker import LocalBroker
from hardware_sim.printer import SimulatedPrinter
from kiosk.lamps import LampMode
from kiosk.node import KioskNode
from printer.profile import has_cutter


class Monotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def make_kiosk(broker: LocalBroker, tmp_path: Path, clock) -> Iterator:  # type: ignore[no-untyped-def]
    made: list[KioskNode] = []

    def make(paper_mm: int = 80, profile: str = "TM-T20II", **site_changes) -> KioskNode:  # type: ignore[no-untyped-def]
        site = broker.site
        printer_cfg = msgspec.structs.replace(site.printer, paper_mm=paper_mm, profile=profile)
        site = msgspec.structs.replace(site, printer=printer_cfg, **site_changes)
        factory = MockFactory()
        node = KioskNode(site, broker.credentials("kiosk"), pin_factory=factory,
                         printer=SimulatedPrinter(profile, paper_mm=paper_mm), clock=clock,
                         monotonic=Monotonic(), ledger_path=tmp_path / f"ledger{len(made)}.sqlite")
        node.start()
        node.mqtt.wait_connected(5)
        made.append(node)
        return node

    try:
        yield make
    finally:
        for node in made:
            node.close()
            node.pin_factory.close()


def press(node: KioskNode, pin: int) -> None:
    """A customer presses and releases the button wired to ``pin``."""
    mock = node.pin_factory.pin(pin)
    mock.drive_low()
    mock.drive_high()
    node.presses.clock.t += 5  # type: ignore[attr-defined]  # the customer walks away


MYKAD_PIN, PRIORITY_PIN, MARRIAGE_PIN = 6, 5, 26


@pytest.mark.parametrize(("paper_mm", "profile"), [(80, "TM-T20II"), (58, "POS-5890")])
def test_a_press_prints_the_ticket_a_customer_needs(make_kiosk, paper_mm: int, profile: str) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk(paper_mm, profile)
    printer: SimulatedPrinter = node.printer  # type: ignore[assignment]
    for _ in range(3):
        press(node, MYKAD_PIN)
        if not has_cutter(profile):
            printer.tear()  # a 58 mm POS-5890 has no cutter: the customer tears the ticket off
    tickets = printer.tickets()
    assert len(tickets) == 3
    paper = " ".join(tickets[2].split())
    assert "A003" in paper
    assert "MyKad" in paper and "Identity card (MyKad)" in paper
    assert "2 orang di hadapan anda" in paper and "2 people ahead of you" in paper
    wait = node.ledger.find("A003").est_wait_s  # type: ignore[union-attr]
    minutes = re.search(r"~(\d+) min", paper)
    assert minutes and int(minutes.group(1)) == max(1, -(-int(wait) // 60))
    assert "24" in paper and "11" in paper and "2026" in paper  # the date
    assert printer.graphics(2), "the QR code"
    assert [t.number for t in node.ledger.waiting()] == ["A001", "A002", "A003"]


def test_cool_down_ignores_a_second_press_and_counts_it(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk()
    pin = node.pin_factory.pin(MYKAD_PIN)
    pin.drive_low()
    pin.drive_high()
    node.presses.clock.t += 0.5  # a child presses again at once
    pin.drive_low()
    pin.drive_high()
    assert len(node.printer.tickets()) == 1  # type: ignore[attr-defined]
    assert node.status_details()["presses_ignored"] == 1
    node.presses.clock.t += 2.0  # past the 2 s cool-down
    pin.drive_low()
    pin.drive_high()
    assert len(node.printer.tickets()) == 2  # type: ignore[attr-defined]


def test_contact_bounce_is_one_press_and_not_counted(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk()
    pin = node.pin_factory.pin(PRIORITY_PIN)
    for _ in range(4):  # edges 10 ms apart: one bouncing press
        pin.drive_low()
        pin.drive_high()
        node.presses.clock.t += 0.01
    assert [t.number for t in node.ledger.waiting()] == ["P001"]
    assert node.status_details()["presses_ignored"] == 0


def test_lamps_are_steady_when_open_and_off_when_a_category_is_closed(make_kiosk, clock, site) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt
    clock.set(dt.datetime(2026, 11, 24, 8, 10, tzinfo=site.site.zone))  # marriage opens 08:30
    node = make_kiosk()
    node.tick()
    assert node.lamps.mode("mykad") is LampMode.READY and node.pin_factory.pin(27).state == 1
    assert node.lamps.mode("marriage") is LampMode.OFF and node.pin_factory.pin(24).state == 0
    press(node, MARRIAGE_PIN)
    assert node.ledger.waiting() == []
    assert "please come back" in node.printer.paper_text().lower() or "sila datang" in node.printer.paper_text().lower()  # type: ignore[attr-defined]
    assert node.status_details()["refused_closed"] == 1
    clock.set(dt.datetime(2026, 11, 24, 8, 31, tzinfo=site.site.zone))
    node.tick()
    assert node.lamps.mode("marriage") is LampMode.READY


def test_quota_reached_turns_the_lamp_off(make_kiosk, broker) -> None:  # type: ignore[no-untyped-def]
    cats = [msgspec.structs.replace(c, quota=1) if c.id == "mykad" else c for c in broker.site.categories]
    node = make_kiosk(categories=cats)
    press(node, MYKAD_PIN)
    press(node, MYKAD_PIN)
    assert [t.number for t in node.ledger.waiting()] == ["A001"]
    assert node.lamps.mode("mykad") is LampMode.OFF
    assert node.status_details()["refused_quota"] == 1


def _fault_events(connect, recorder):  # type: ignore[no-untyped-def]
    tech = connect("technician", "technician")
    events = recorder()
    tech.subscribe(tech.topics.event("error"), events)
    statuses = recorder()
    tech.subscribe(tech.topics.status("kiosk"), statuses)
    return events, statuses


@pytest.mark.faults
@pytest.mark.parametrize(
    ("fault", "code"),
    [("paper_out", "paper_out"), ("cover_open", "cover_open"), ("offline", "disconnected")],
)
def test_a_printer_fault_leaves_no_ghost_and_recovers(make_kiosk, connect, recorder, fault: str, code: str) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk()
    printer: SimulatedPrinter = node.printer  # type: ignore[assignment]
    events, statuses = _fault_events(connect, recorder)
    press(node, MYKAD_PIN)                       # A001 prints
    setattr(printer, fault, True)
    press(node, MYKAD_PIN)                       # A002 reserved, not printed: voided
    press(node, MYKAD_PIN)                       # refused without burning a number
    assert [t.number for t in node.ledger.waiting()] == ["A001"], "no ghost ticket"
    assert node.ledger.find("A002").state == "voided"  # type: ignore[union-attr]
    assert node.ledger.find("A003") is None
    assert all(node.lamps.mode(c.id) is LampMode.FAULT for c in node.ledger.site.categories)
    event = decode(events.wait_for(lambda m: True).payload, ErrorEvent)
    assert event.code == f"printer_{code}"
    statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("printer") == code)
    setattr(printer, fault, False)
    node._monotonic.t += 10  # type: ignore[attr-defined]
    node.tick()                                   # the main loop polls the printer
    assert node.lamps.mode("mykad") is LampMode.READY
    press(node, MYKAD_PIN)
    assert [t.number for t in node.ledger.waiting()] == ["A001", "A003"], "numbers never repeat"
    assert len(printer.tickets()) == 2


@pytest.mark.faults
def test_paper_running_out_mid_ticket_voids_it(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk()
    printer: SimulatedPrinter = node.printer  # type: ignore[assignment]
    printer.load_paper(roll_mm=30)                # less than one ticket
    press(node, MYKAD_PIN)
    assert node.ledger.waiting() == []
    assert node.ledger.find("A001").state == "voided"  # type: ignore[union-attr]
    assert node.issuer.fault == "paper_out"
    printer.load_paper()
    # The top of the ticket came out before the roll ended; the rest was cleared from the
    # printer's buffer, so it does not print itself when the new roll goes in.
    assert "Estimated wait" not in printer.paper_text()


def test_near_end_is_a_warning_not_a_fault(make_kiosk) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk()
    node.printer.paper_near_end = True  # type: ignore[attr-defined]
    press(node, MYKAD_PIN)
    assert [t.number for t in node.ledger.waiting()] == ["A001"]
    details = node.status_details()
    assert details["paper"] == "near_end" and details["printer"] == "ok"


def test_technician_test_print_and_reprint_copy(make_kiosk, connect) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk()
    press(node, PRIORITY_PIN)
    tech = connect("technician", "technician")
    topic, reply_topic = tech.topics.node_cmd("kiosk"), tech.topics.node_reply("kiosk")
    reply = tech.request(topic, TechCommand(action="reprint"), TechReply, response_topic=reply_topic)
    assert reply.ok and "P001" in reply.message
    last = node.printer.tickets()[-1]  # type: ignore[attr-defined]
    assert "P001" in last and "COPY" in last.upper()
    assert [t.number for t in node.ledger.waiting()] == ["P001"]
    reply = tech.request(topic, TechCommand(action="test_print"), TechReply, response_topic=reply_topic)
    assert reply.ok
    assert len(node.printer.tickets()) == 3  # type: ignore[attr-defined]


def test_a_clock_set_back_is_an_alarm_and_changes_no_ticket(make_kiosk, clock, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk()
    tech = connect("technician", "technician")
    errors, statuses = recorder(), recorder()
    tech.subscribe(tech.topics.event("error"), errors)
    tech.subscribe(tech.topics.status("kiosk"), statuses)
    press(node, MYKAD_PIN)
    clock.advance(-3600)                       # NTP steps the kiosk's clock back an hour
    node.tick()
    event = decode(errors.wait_for(lambda m: decode(m.payload, ErrorEvent).code == "clock").payload, ErrorEvent)
    assert event.message == "clock: behind by 3600 s"
    msg = statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("clock") == "behind by 3600 s")
    assert decode(msg.payload, NodeStatus).details["clock_offset_s"] == -3600
    press(node, MYKAD_PIN)
    paper = " ".join(node.printer.tickets()[-1].split())  # type: ignore[attr-defined]
    assert "A002" in paper and "1 person ahead of you" in paper
    assert [t.number for t in node.ledger.waiting()] == ["A001", "A002"]
    # clock_ok takes a held jump; it cannot make a clock that is behind right, and says so.
    reply = tech.request(tech.topics.node_cmd("kiosk"), TechCommand(action="clock_ok"), TechReply,
                         response_topic=tech.topics.node_reply("kiosk"))
    assert reply.ok and reply.message == "clock: behind by 3600 s"


def test_status_counts_tickets_per_category(make_kiosk, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk()
    tech = connect("technician", "technician")
    statuses = recorder()
    tech.subscribe(tech.topics.status("kiosk"), statuses)
    press(node, MYKAD_PIN)
    press(node, PRIORITY_PIN)
    msg = statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("issued.priority") == 1)
    details = decode(msg.payload, NodeStatus).details
    assert details["issued.mykad"] == 1 and details["printer"] == "ok" and details["version"]
