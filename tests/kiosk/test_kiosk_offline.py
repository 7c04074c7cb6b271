"""The kiosk keeps issuing tickets while the broker is down, and the hall catches up when it returns."""

from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from giliran.mqtt import MqttNode
from giliran.protocol import BoardState, decode
from hardware_sim.broker import LocalBroker
from hardware_sim.printer import SimulatedPrinter
from kiosk.node import KioskNode


@pytest.mark.faults
def test_tickets_print_during_a_broker_outage_and_boards_catch_up(site, tmp_path: Path, clock, recorder) -> None:  # type: ignore[no-untyped-def]
    with LocalBroker(site, tmp_path / "broker") as broker:
        factory = MockFactory()
        printer = SimulatedPrinter("TM-T20II")
        kiosk = KioskNode(broker.site, broker.credentials("kiosk"), pin_factory=factory, printer=printer,
                          clock=clock, monotonic=clock, ledger_path=tmp_path / "ledger.sqlite")
        kiosk.start()
        kiosk.mqtt.wait_connected(5)
        tech = MqttNode(broker.site, "technician", "technician", broker.credentials("technician"))
        try:
            broker.stop()
            for _ in range(3):
                pin = factory.pin(6)  # MyKad
                pin.drive_low()
                pin.drive_high()
                clock.advance(5)
            assert [t.number for t in kiosk.ledger.waiting()] == ["A001", "A002", "A003"]
            assert len(printer.tickets()) == 3
            broker.start()
            boards = recorder()
            tech.subscribe(tech.topics.board, boards)
            tech.start()
            boards.wait_for(lambda m: {c.id: c.waiting for c in decode(m.payload, BoardState).categories}["mykad"] == 3,
                            timeout=15)
        finally:
            tech.stop()
            kiosk.close()
            factory.close()
