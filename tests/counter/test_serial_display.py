"""The number board's line protocol, byte for byte, and a board that goes away and comes back."""

from __future__ import annotations

from pathlib import Path

import serial

from counter.serial_display import BLANK, RETRY_S, Line, LineFormat, SerialLineDisplay
from giliran.config import SerialDisplay
from hardware_sim.counter_board import VirtualCounterBoard


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


DEFAULT = SerialDisplay(port="/dev/ttyUSB0").template


def test_the_default_template_puts_number_and_counter_on_one_line() -> None:
    fmt = LineFormat(DEFAULT, counter=3, name="Kaunter 3")
    assert fmt.render(Line("A012", "now serving")) == b"A012  3\r\n"
    assert fmt.render(Line("ERR", "no reply")) == b" ERR  3\r\n"
    assert fmt.render(Line("-> B")) == b"-> B  3\r\n"


def test_the_blank_line_wipes_the_whole_width() -> None:
    assert LineFormat(DEFAULT, counter=12, name="Kaunter 12").render(BLANK) == b"       \r\n"
    assert LineFormat("{name}: {number}\n", counter=1, name="Kaunter 1").render(BLANK) == b"           \n"


def test_text_beyond_ascii_becomes_a_question_mark() -> None:
    fmt = LineFormat("{name} {number} {text}\r\n", counter=1, name="Kaunter Ubah")
    assert fmt.render(Line("A001", "café")) == b"Kaunter Ubah A001 caf?\r\n"


def test_pyserial_loop_url_carries_the_exact_line() -> None:
    port = serial.serial_for_url("loop://", timeout=1)
    try:
        port.write(LineFormat(DEFAULT, counter=3, name="Kaunter 3").render(Line("B004")))
        assert port.read(9) == b"B004  3\r\n"
    finally:
        port.close()


def test_a_board_pulled_out_is_retried_and_gets_the_current_line_back(tmp_path: Path) -> None:
    clock = Clock()
    with VirtualCounterBoard(tmp_path / "ttyCOUNTER") as board:
        display = SerialLineDisplay(str(board.path), 9600, LineFormat(DEFAULT, 3, "Kaunter 3"), clock)
        try:
            display.show(Line("A001"))
            board.wait_for("A001  3")
            board.unplug()
            display.show(Line("A002"))
            assert display.error is not None and "stopped taking data" in display.error
            board.plug()
            display.tick()
            assert display.error is not None  # not yet: retries are RETRY_S apart
            clock.t += RETRY_S
            display.tick()
            assert display.error is None
            board.wait_for("A002  3")
            assert board.lines() == ["A001  3", "A002  3"]
        finally:
            display.close()


def test_a_board_that_is_not_there_names_its_port(tmp_path: Path) -> None:
    port = tmp_path / "ttyUSB9"
    display = SerialLineDisplay(str(port), 9600, LineFormat(DEFAULT, 3, "Kaunter 3"), Clock())
    display.show(Line("A001"))
    assert display.error is not None and display.error.startswith(f"cannot open the number board on {port}")
    display.close()
