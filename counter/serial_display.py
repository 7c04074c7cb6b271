"""The counter's LED number board on a serial line: a one-way, line-based protocol.

Every change is one line, built from the site's ``serial_display.template``
(default ``"{number:>4} {counter:>2}\\r\\n"``), encoded as ASCII (anything
else becomes ``?``). The board shows the latest line it received; nothing is
read back. ``number`` is the big four-character field: a ticket number
(``A012``) or a status text (``----``, ``PAUS``, ``WAIT``, ``BUSY``, ``ERR``,
``-> B``); ``text`` carries a few words for boards whose template shows them.
The blank line (every character a space, the terminator kept) clears the
board. docs/COUNTER.md has the full table.

A board that is unplugged, or pulled out mid-day, must not stop the counter:
:class:`SerialLineDisplay` logs the fault, reports it, retries opening the
port every few seconds and, once it is back, sends the line it should show.

Example (any pyserial URL works: ``/dev/ttyUSB0``, a pty's slave, ``loop://``)::

    fmt = LineFormat(site.counter(3).serial_display.template, counter=3, name="Kaunter 3")
    board = SerialLineDisplay("/dev/ttyUSB0", 9600, fmt, time.monotonic)
    board.show(Line("A012", "now serving"))    # sends b"A012  3\\r\\n"
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

log = logging.getLogger(__name__)

NUMBER_WIDTH = 4  # the big field of the usual counter number board: A012, PAUS, ----
RETRY_S = 5.0
WRITE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Line:
    """One line on the board: ``number`` is the big four-character field, ``text`` a few words."""

    number: str
    text: str = ""


BLANK = Line("")


class LineFormat:
    """Turns a :class:`Line` into the bytes the board expects, by the site's template."""

    def __init__(self, template: str, counter: int, name: str) -> None:
        self.template = template
        self.counter = counter
        self.name = name

    def render(self, line: Line) -> bytes:
        text = self.template.format(number=line.number, counter=self.counter, name=self.name, text=line.text)
        if line == BLANK:
            # Same width as a real line, so a board that does not clear on its own is wiped too.
            text = "".join(c if c in "\r\n" else " " for c in text)
        return text.encode("ascii", errors="replace")


class LineDisplay(Protocol):
    """What the counter needs from a number board; called from one thread at a time."""

    @property
    def error(self) -> str | None:
        """Why the board cannot show anything now, or None when it is fine."""

    def show(self, line: Line) -> None: ...

    def tick(self) -> None:
        """Retry a board that is gone, if it is time."""

    def close(self) -> None: ...


class NoDisplay:
    """A counter without a number board (no ``serial_display`` in the site file)."""

    error: str | None = None

    def show(self, line: Line) -> None:
        log.debug("no number board; would show %r", line)

    def tick(self) -> None:
        """Nothing to retry."""

    def close(self) -> None:
        """Nothing to close."""


class SerialLineDisplay:
    """The board behind pyserial, reopened on its own after a fault.

    ``error`` says why it shows nothing now (the node reports it). Not
    thread-safe: the Screen serialises calls.
    """

    def __init__(self, port: str, baudrate: int, fmt: LineFormat, clock: Callable[[], float], *,
                 retry_s: float = RETRY_S) -> None:
        self.port = port
        self.baudrate = baudrate
        self.format = fmt
        self.retry_s = retry_s
        self._clock = clock
        self._serial: serial.SerialBase | None = None
        self._current: bytes | None = None
        self._retry_at = clock()
        self.error: str | None = None
        self._open()

    def show(self, line: Line) -> None:
        data = self.format.render(line)
        self._current = data
        if self._serial is None:
            self.tick()
        else:
            self._write(data)

    def tick(self) -> None:
        if self._serial is None and self._clock() >= self._retry_at and self._open() and self._current:
            self._write(self._current)

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def _open(self) -> bool:
        try:
            self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0,
                                                 write_timeout=WRITE_TIMEOUT_S, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            self._fail(f"cannot open the number board on {self.port}: {exc}")
            return False
        log.info("number board on %s open at %d baud", self.port, self.baudrate)
        self.error = None
        return True

    def _write(self, data: bytes) -> None:
        assert self._serial is not None
        try:
            self._serial.write(data)
            self._serial.flush()
        except (serial.SerialException, OSError) as exc:
            self.close()
            self._fail(f"the number board on {self.port} stopped taking data: {exc}")

    def _fail(self, message: str) -> None:
        self._retry_at = self._clock() + self.retry_s
        if message != self.error:
            log.warning("%s; retrying every %.0f s", message, self.retry_s)
        self.error = message
