"""A real escpos.printer.Serial over a pseudo-terminal, to the simulator or to nobody."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from escpos.printer import Serial

from hardware_sim.printer import SimulatedPrinter
from hardware_sim.pty_printer import PtyPrinter


@pytest.fixture
def pty_sim() -> Iterator[PtyPrinter]:
    pty = PtyPrinter(SimulatedPrinter("TM-T20II", transport="serial"))
    try:
        yield pty
    finally:
        pty.close()


def test_serial_printer_talks_to_the_simulator(pty_sim: PtyPrinter) -> None:
    # The stock Serial._read waits the whole timeout for 16 bytes, even after the
    # one-byte answer: keep it short (printer.connection.QuickSerial does not wait).
    printer = Serial(devfile=pty_sim.path, timeout=0.25, profile="TM-T20II")
    try:
        printer.textln("A001")
        printer.cut()
        assert printer.is_online() is True  # the reply follows the ticket's bytes
        assert pty_sim.sim.tickets() == ["A001"]
        pty_sim.sim.paper_out = True
        assert printer.paper_status() == 0
    finally:
        printer.close()


@pytest.mark.faults
def test_silent_serial_device_reads_as_offline_but_paper_ok() -> None:
    """python-escpos 3.1 on a real Serial object: nobody answers, yet paper_status() is 2 ("paper ok")."""
    master, slave = os.openpty()
    printer = Serial(devfile=os.ttyname(slave), timeout=0.05)
    try:
        assert printer.is_online() is False
        assert printer.paper_status() == 2
        assert os.read(master, 64) == b"\x10\x04\x01\x10\x04\x04"
    finally:
        printer.close()
        os.close(master)
        os.close(slave)
