"""check(): what the kiosk learns from the printer, for every fault the simulator can show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from escpos.printer import Dummy, File

from hardware_sim.printer import SimulatedPrinter
from printer.status import can_read_status, check

MakeSim = Callable[..., SimulatedPrinter]


def test_healthy_printer(make_sim: MakeSim) -> None:
    health = check(make_sim())
    assert health.ok and health.online and health.paper == "ok" and health.cover_open is False
    assert health.warning is None and health.message == "ready"
    assert health.details() == {"printer": "ok", "paper": "ok"}


def test_paper_near_end_is_a_warning_not_a_fault(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.paper_near_end = True
    health = check(sim)
    assert health.ok and health.warning == "paper_near_end" and health.paper == "near_end"
    assert health.details() == {"printer": "ok", "paper": "near_end"}


@pytest.mark.faults
@pytest.mark.parametrize(
    ("switch", "code", "words"),
    [
        ("paper_out", "paper_out", "no paper: load a new roll"),
        ("cover_open", "cover_open", "the paper cover is open"),
        ("cutter_error", "cutter_error", "the autocutter is jammed"),
    ],
)
def test_faults_are_named(make_sim: MakeSim, switch: str, code: str, words: str) -> None:
    sim = make_sim()
    setattr(sim, switch, True)
    health = check(sim)
    assert health.fault == code and words in health.message
    assert health.online is False
    assert health.details()["printer"] == code


@pytest.mark.faults
def test_paper_out_is_reported_with_the_sensor_state(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.paper_out = True
    health = check(sim)
    assert health.paper == "out" and health.cover_open is False


@pytest.mark.faults
@pytest.mark.parametrize("transport", ["serial", "network", "usb"])
def test_silent_printer_is_no_answer_not_paper_ok(
    make_sim: MakeSim, sleeps: list[float], transport: str
) -> None:
    """A silent Serial printer reads "paper ok" in python-escpos; check() asks is-online first."""
    sim = make_sim(transport=transport, timeout_s=0.5)
    sim.silent = True
    health = check(sim)
    assert health.fault == "no_answer" and "did not answer a status request" in health.message
    assert sleeps == [0.5]  # one timeout, not one per question


@pytest.mark.faults
def test_unplugged_then_replugged(make_sim: MakeSim) -> None:
    sim = make_sim()
    assert check(sim).ok
    sim.offline = True
    health = check(sim)
    assert health.fault == "disconnected" and "No such device" in health.message
    assert check(sim).fault == "disconnected"  # reopening fails while unplugged
    sim.offline = False
    assert check(sim).ok  # the next check opens the connection again


@pytest.mark.faults
def test_unplugged_from_the_start(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.offline = True
    health = check(sim)
    assert health.fault == "disconnected" and "unplugged" in health.message


def test_one_way_connections_report_unknown_honestly(tmp_path: Path) -> None:
    for printer in (File(devfile=str(tmp_path / "lp0")), Dummy()):
        assert not can_read_status(printer)
        health = check(printer)
        assert health.ok and health.online is None and health.paper == "unknown"
        assert "cannot read status" in health.message
        assert health.details() == {"printer": "unknown", "paper": "unknown"}
    assert not (tmp_path / "lp0").exists()  # nothing was written to ask


def test_a_file_printer_path_that_cannot_open_is_a_fault_naming_it(tmp_path: Path) -> None:
    """A typo in printer.file.path, or /dev/usb/lp0 with no printer plugged, once read as a healthy printer."""
    from giliran.config import FileConnection, Printer
    from printer.connection import build_printer, close_printer

    path = tmp_path / "usb" / "lp0"
    printer = build_printer(Printer(connection="file", file=FileConnection(path=str(path))))
    try:
        health = check(printer)
        assert (health.fault, health.message) == ("disconnected",
                                                  f"cannot open the printer file {path}: No such file or directory")
        path.parent.mkdir()  # the printer is plugged in
        health = check(printer)
        assert health.fault is None and health.details() == {"printer": "unknown", "paper": "unknown"}
        assert not path.exists()  # nothing was written to ask
    finally:
        close_printer(printer)
