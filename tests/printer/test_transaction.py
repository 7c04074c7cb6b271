"""print_*_checked: a ticket the kiosk confirms is on paper; one it must void raises PrinterFault."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from giliran.config import FileConnection, SerialConnection, SiteConfig
from giliran.errors import PrinterFault
from hardware_sim.printer import SimulatedPrinter
from hardware_sim.pty_printer import PtyPrinter
from printer.connection import build_printer, close_printer
from printer.layout import ClosedSlip, TicketPrint, draw_ticket
from printer.transaction import (
    CLEAR_BUFFER,
    print_closed_slip_checked,
    print_test_page_checked,
    print_ticket_checked,
    render,
)

from .conftest import with_printer

MakeSim = Callable[..., SimulatedPrinter]
STATUS = b"\x10\x04\x01\x10\x04\x04"  # is-online, then paper sensors


def test_ticket_is_checked_sent_in_one_piece_and_checked_again(
    make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint
) -> None:
    sim = make_sim(site)
    health = print_ticket_checked(sim, ticket, site)
    assert health.ok and health.warning is None
    job = render(site, lambda p: draw_ticket(p, ticket, site))
    assert sim.received == STATUS + job + STATUS
    assert "A001" in sim.tickets()[0].splitlines()


def test_near_end_prints_and_warns(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint) -> None:
    sim = make_sim(site)
    sim.paper_near_end = True
    assert print_ticket_checked(sim, ticket, site).warning == "paper_near_end"
    assert len(sim.tickets()) == 1


@pytest.mark.faults
@pytest.mark.parametrize("switch", ["paper_out", "cover_open", "cutter_error"])
def test_nothing_is_sent_to_a_printer_that_cannot_print(
    make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint, switch: str
) -> None:
    sim = make_sim(site)
    setattr(sim, switch, True)
    with pytest.raises(PrinterFault) as fault:
        print_ticket_checked(sim, ticket, site)
    assert fault.value.code == switch and str(fault.value).startswith("ticket A001 not printed: ")
    assert sim.received.replace(STATUS, b"").replace(b"\x10\x04\x02", b"").replace(b"\x10\x04\x03", b"") == b""
    setattr(sim, switch, False)
    assert sim.paper_text() == ""  # nothing comes out later either


@pytest.mark.faults
def test_paper_running_out_mid_ticket_voids_it_and_clears_the_rest(
    make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint
) -> None:
    sim = make_sim(site, roll_mm=40)
    with pytest.raises(PrinterFault) as fault:
        print_ticket_checked(sim, ticket, site)
    assert fault.value.code == "paper_out"
    assert "ticket A001 may not have come out: no paper" in str(fault.value)
    assert sim.received.endswith(CLEAR_BUFFER)
    top = sim.paper_text()
    assert top.startswith("Jabatan Pendaftaran Negara Putrajaya") and "Estimated wait" not in top
    sim.load_paper()
    assert sim.paper_text() == top  # the voided ticket's rest never prints
    print_ticket_checked(sim, ticket, site)
    assert len(sim.tickets()) == 1


@pytest.mark.faults
def test_unplugged_printer_is_a_fault_and_a_replugged_one_prints(
    make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint
) -> None:
    sim = make_sim(site)
    print_ticket_checked(sim, ticket, site)
    sim.offline = True
    with pytest.raises(PrinterFault) as fault:
        print_ticket_checked(sim, ticket, site)
    assert fault.value.code == "disconnected"
    sim.offline = False
    print_ticket_checked(sim, ticket, site)
    assert len(sim.tickets()) == 2


@pytest.mark.faults
def test_silent_printer_is_not_trusted(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint) -> None:
    sim = make_sim(site, transport="serial")
    sim.silent = True
    with pytest.raises(PrinterFault) as fault:
        print_ticket_checked(sim, ticket, site)
    assert fault.value.code == "no_answer"
    assert sim.paper_text() == ""


def test_slow_printer_within_its_timeout_prints(
    make_sim: MakeSim, sleeps: list[float], site: SiteConfig, ticket: TicketPrint
) -> None:
    sim = make_sim(site)
    sim.slow_s = 0.4
    print_ticket_checked(sim, ticket, site)
    assert sleeps == [0.4] * 5  # two status requests, the job in one write, two status requests
    assert sim.last_byte_at == pytest.approx(0.4 * 5)
    assert len(sim.tickets()) == 1


@pytest.mark.faults
def test_printer_too_slow_to_take_a_status_request_is_no_answer(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint) -> None:
    sim = make_sim(site, transport="network", timeout_s=2.0)
    sim.slow_s = 3.0
    with pytest.raises(PrinterFault) as fault:
        print_ticket_checked(sim, ticket, site)
    assert fault.value.code == "no_answer"  # the status request already timed out


@pytest.mark.faults
def test_ticket_write_timing_out_is_a_timeout_fault(
    make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint
) -> None:
    sim = make_sim(site, timeout_s=2.0)
    assert print_ticket_checked(sim, ticket, site).ok

    class StallsOnBigWrites(SimulatedPrinter):
        def _raw(self, msg: bytes) -> None:
            self.slow_s = 5.0 if len(msg) > 100 else 0.0
            super()._raw(msg)

    stalling = StallsOnBigWrites("TM-T20II", sleep=lambda s: None)
    with pytest.raises(PrinterFault) as fault:
        print_ticket_checked(stalling, ticket, site)
    assert fault.value.code == "timeout" and "Operation timed out" in str(fault.value)
    assert stalling.paper_text() == ""


def test_file_connection_prints_blind(site: SiteConfig, ticket: TicketPrint, tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    file_site = with_printer(site, connection="file", file=FileConnection(path=str(out)))
    printer = build_printer(file_site.printer)
    try:
        health = print_ticket_checked(printer, ticket, file_site)
    finally:
        close_printer(printer)
    assert health.ok and health.paper == "unknown"
    assert out.read_bytes() == render(file_site, lambda p: draw_ticket(p, ticket, file_site))


@pytest.mark.faults
def test_file_connection_that_cannot_be_written_is_a_fault(site: SiteConfig, ticket: TicketPrint, tmp_path: Path) -> None:
    gone = with_printer(site, connection="file", file=FileConnection(path=str(tmp_path / "no" / "lp0")))
    printer = build_printer(gone.printer)
    with pytest.raises(PrinterFault) as fault:
        print_ticket_checked(printer, ticket, gone)
    assert fault.value.code == "disconnected"


def test_serial_printer_end_to_end_over_a_pty(site: SiteConfig, ticket: TicketPrint) -> None:
    with PtyPrinter(SimulatedPrinter("TM-T20II", transport="serial")) as pty:
        serial_site = with_printer(
            site, connection="serial", serial=SerialConnection(device=pty.path, baudrate=38400), timeout_s=1.0
        )
        printer = build_printer(serial_site.printer)
        try:
            started = time.monotonic()
            health = print_ticket_checked(printer, ticket, serial_site)
            elapsed = time.monotonic() - started
        finally:
            close_printer(printer)
        assert health.ok
        assert elapsed < 0.5  # status replies are read as they come, not after the timeout
        assert "A001" in pty.sim.tickets()[0].splitlines()


def test_slip_and_test_page(make_sim: MakeSim, site58: SiteConfig) -> None:
    sim = make_sim(site58)
    at = dt.datetime(2026, 11, 24, 17, 30)
    print_closed_slip_checked(sim, ClosedSlip("closed", at), site58)
    sim.tear()
    print_test_page_checked(sim, site58, at)
    sim.tear()
    slip, page = sim.tickets()
    assert "CLOSED" in slip.splitlines() and "TEST PRINT" in page.splitlines()
