"""A simulated ESC/POS printer that python-escpos drives exactly like a real one.

:class:`SimulatedPrinter` is a python-escpos printer class: every method
(``text``, ``set``, ``image``, ``qr``, ``cut``, ``is_online``, ``paper_status``,
``query_status``...) ends in its ``_raw(bytes)`` and ``_read()``, and from there
the bytes go through the same stages as in a real printer:

* the receive stage cuts them into commands and answers real-time commands at
  once (``DLE EOT n`` status, ``DLE DC4 8`` buffer clear), even when offline;
* everything else waits in the buffer until the printer can print: with no paper,
  the cover open or the cutter jammed, data is *held, not printed, not lost*, and
  comes out when the fault clears, as real thermal printers do;
* the print head (:class:`hardware_sim.escpos_render.Paper`) puts it on paper,
  which reads back as text and draws as a PNG.

Faults are switches a test or a person flips: ``paper_out``, ``paper_near_end``,
``cover_open``, ``cutter_error``, ``offline`` (unplugged: writes raise, nothing
answers), ``silent`` (prints, never answers status), ``slow_s`` (delay per write).
With no answer, ``_read()`` does what the real ``transport`` driver does after
its timeout: Serial returns ``b""``, Network raises ``TimeoutError``, USB raises
pyusb's ``USBTimeoutError``. Time comes from the injected ``clock``/``sleep``.

Example::

    sim = SimulatedPrinter("TM-T20II", paper_mm=80)
    sim.set(align="center", bold=True)
    sim.textln("A001")
    sim.cut()
    sim.tickets()          # ['A001']
    sim.paper_out = True
    sim.paper_status()     # 0: the DLE EOT 4 reply is 0x7E
    sim.paper_png("paper.png")
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from PIL import Image

from hardware_sim.escpos_render import Paper
from hardware_sim.escpos_stream import REALTIME_OPS, Command, CommandStream
from hardware_sim.paper_image import render, text_box
from hardware_sim.paper_model import Graphic, Item, PaperSpec

log = logging.getLogger(__name__)

Transport = Literal["usb", "serial", "network"]

#: Reply to DLE DC4 fn=8 (clear buffers), as Epson TM printers send it.
CLEAR_RESPONSE = b"\x37\x25\x00"
NEAR_END_MM = 100.0  # a finite roll reports "near end" from here on

_FIXED = 0x12  # bits 1 and 4 are always on in a DLE EOT reply


class SimulatedPrinter(Escpos):
    """An ESC/POS printer in memory; see the module docstring."""

    def __init__(
        self,
        profile: str = "TM-T20II",
        *,
        paper_mm: int | None = None,
        transport: Transport = "usb",
        timeout_s: float = 2.0,
        roll_mm: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: object,
    ) -> None:
        Escpos.__init__(self, profile=profile, **kwargs)
        mm = self.profile.media.get("width", {}).get("mm")
        self.paper_mm = paper_mm or (58 if isinstance(mm, int | float) and mm <= 60 else 80)
        self.transport: Transport = transport
        self.timeout_s = timeout_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.RLock()
        self._paper = Paper(PaperSpec.for_profile(self.profile, self.paper_mm))
        self._stream = CommandStream()
        self._held: deque[Command] = deque()
        self._replies = bytearray()
        self._received = bytearray()
        self._roll_dots: float | None = None
        self._paper_forced_out = False
        self._cover_open = False
        self._cutter_error = False
        self._near_end_forced = False
        #: Unplugged or switched off: writes raise like the transport's driver, nothing answers.
        self.offline = False
        #: Prints, but never answers a status request (e.g. a serial cable without its return line).
        self.silent = False
        #: Seconds each write takes; past ``timeout_s`` a USB or network write times out.
        self.slow_s = 0.0
        #: ``clock()`` when the last byte arrived; for "button press to last byte" benchmarks.
        self.last_byte_at: float | None = None
        #: Seconds of this process's time spent taking bytes in (parsing ESC/POS, putting it on
        #: paper): the simulator's own work, which a real printer does inside itself.
        #: Benchmarks report it apart from the kiosk's time; ``work_cpu_s`` is the CPU part of it.
        self.work_s = 0.0
        self.work_cpu_s = 0.0
        if roll_mm is not None:
            self.load_paper(roll_mm)

    # --- switches ----------------------------------------------------------

    @property
    def paper_out(self) -> bool:
        """No paper at the paper-end sensor. Setting False loads a fresh, endless roll."""
        with self._lock:
            return self._paper_forced_out or (self._roll_dots is not None and self._roll_dots <= 0)

    @paper_out.setter
    def paper_out(self, value: bool) -> None:
        if value:
            with self._lock:
                self._paper_forced_out = True
        else:
            self.load_paper()

    def load_paper(self, roll_mm: float | None = None) -> None:
        """Put in a roll ``roll_mm`` long (None: endless); held data prints at once."""
        with self._lock:
            self._paper_forced_out = False
            self._roll_dots = None if roll_mm is None else roll_mm * self._paper.spec.dpi / 25.4
            self._pump()

    @property
    def paper_near_end(self) -> bool:
        """The near-end sensor sees the end of the roll coming (a warning, printing goes on)."""
        with self._lock:
            near = self._roll_dots is not None and self._roll_dots <= NEAR_END_MM * self._paper.spec.dpi / 25.4
            return self._near_end_forced or near

    @paper_near_end.setter
    def paper_near_end(self, value: bool) -> None:
        with self._lock:
            self._near_end_forced = value

    @property
    def cover_open(self) -> bool:
        """The roll cover is open: the printer goes offline and holds data until it is shut."""
        return self._cover_open

    @cover_open.setter
    def cover_open(self, value: bool) -> None:
        with self._lock:
            self._cover_open = value
            self._pump()

    @property
    def cutter_error(self) -> bool:
        """The autocutter jammed: offline with an error until cleared."""
        return self._cutter_error

    @cutter_error.setter
    def cutter_error(self, value: bool) -> None:
        with self._lock:
            self._cutter_error = value
            self._pump()

    # --- python-escpos's seam ----------------------------------------------

    def open(self) -> None:
        if self.offline:
            raise DeviceNotFoundError(f"simulated {self.transport} printer is unplugged")
        self.device = self.transport

    def close(self) -> None:
        self._device = False

    def _raw(self, msg: bytes) -> None:
        if self.device is None:
            raise DeviceNotFoundError("simulated printer is not connected; open() it again")
        if self.offline:
            raise self._unplugged_error()
        if self.slow_s:
            if self.transport != "serial" and self.slow_s > self.timeout_s:
                self._sleep(self.timeout_s)
                raise self._timeout_error()
            self._sleep(self.slow_s)
        self.receive(msg)

    def _read(self) -> bytes:
        if self.offline:
            raise self._unplugged_error()
        reply = self.take_reply()
        if reply:
            return reply
        self._sleep(self.timeout_s)
        if self.transport == "serial":
            return b""
        raise self._timeout_error()

    # --- the printer's side of the cable -------------------------------------

    def receive(self, data: bytes) -> None:
        """Bytes arriving at the printer (from ``_raw`` or a pty bridge)."""
        with self._lock:
            if self.offline:
                return
            started, cpu = time.perf_counter(), time.thread_time()
            self._received += data
            self.last_byte_at = self._clock()
            for command in self._stream.feed(data):
                if command.op in REALTIME_OPS:
                    self._pump()
                    self._realtime(command)
                else:
                    self._held.append(command)
            self._pump()
            self.work_s += time.perf_counter() - started
            self.work_cpu_s += time.thread_time() - cpu

    def take_reply(self) -> bytes:
        """Bytes the printer has sent back and nobody has read yet."""
        with self._lock:
            reply = bytes(self._replies)
            self._replies.clear()
            return reply

    def status_byte(self, n: int) -> int | None:
        """The reply to DLE EOT n (Epson bit layout), None for an n the printer ignores."""
        with self._lock:
            if n == 1:
                offline = self.paper_out or self._cover_open or self._cutter_error
                return _FIXED | (0x08 if offline else 0)
            if n == 2:
                return (
                    _FIXED
                    | (0x04 if self._cover_open else 0)
                    | (0x20 if self.paper_out else 0)
                    | (0x40 if self._cutter_error else 0)
                )
            if n == 3:
                return _FIXED | (0x08 if self._cutter_error else 0)
            if n == 4:
                return _FIXED | (0x0C if self.paper_near_end or self.paper_out else 0) | (0x60 if self.paper_out else 0)
            return None

    def _realtime(self, command: Command) -> None:
        if command.op == "status":
            byte = self.status_byte(command.args[0])
            if byte is not None and not self.silent:
                self._replies.append(byte)
        elif command.op == "clear_buffer" or (command.op == "realtime_request" and command.args[0] == 2):
            log.info("printer buffer cleared: %d held commands dropped", len(self._held))
            self._held.clear()
            self._paper.discard_line()
            if command.op == "clear_buffer" and not self.silent:
                self._replies += CLEAR_RESPONSE

    def _pump(self) -> None:
        """Print held commands while nothing stops the printer."""
        while self._held and not (self.paper_out or self._cover_open or self._cutter_error):
            fed = self._paper.execute(self._held.popleft())
            if self._roll_dots is not None:
                self._roll_dots -= fed
                if self._roll_dots <= 0:
                    log.info("simulated printer ran out of paper; %d commands held", len(self._held))

    def _unplugged_error(self) -> OSError:
        if self.transport == "serial":
            import serial

            return serial.SerialException("write failed: [Errno 5] Input/output error")
        if self.transport == "network":
            return BrokenPipeError(errno.EPIPE, "Broken pipe")
        import usb.core

        return usb.core.USBError(
            "No such device (it may have been disconnected)", error_code=-4, errno=errno.ENODEV
        )

    def _timeout_error(self) -> OSError:
        if self.transport == "usb":
            import usb.core

            return usb.core.USBTimeoutError("Operation timed out", error_code=-7, errno=errno.ETIMEDOUT)
        return TimeoutError("timed out")

    # --- reading the paper -------------------------------------------------

    @property
    def received(self) -> bytes:
        """Every byte that reached the printer, in order."""
        with self._lock:
            return bytes(self._received)

    @property
    def held_commands(self) -> int:
        """Commands received but not printed (waiting for paper, a closed cover...)."""
        with self._lock:
            return len(self._held)

    @property
    def unsupported(self) -> list[Command]:
        """Commands this model would not have printed; empty for a clean layout."""
        with self._lock:
            return list(self._paper.unsupported)

    @property
    def printable_dots(self) -> int:
        return self._paper.spec.width_dots

    def paper_text(self) -> str:
        """Plain text of everything printed; cuts show as ``--- cut ---`` lines."""
        with self._lock:
            return self._paper.text()

    def tickets(self) -> list[str]:
        """Text of each piece of paper cut (or torn) off, oldest first."""
        with self._lock:
            return self._paper.tickets()

    def tear(self) -> None:
        """The customer tears the paper off (for models without an autocutter)."""
        with self._lock:
            self._paper.tear()

    def graphics(self, ticket: int | None = None) -> list[Graphic]:
        """Images and QR codes printed, on the whole paper or on one ticket."""
        return [item for item in self._items(ticket) if isinstance(item, Graphic)]

    def text_box(self, needle: str, ticket: int | None = None) -> tuple[int, int, int, int] | None:
        """Where ``needle`` is printed in :meth:`paper_image` (left, top, right, bottom)."""
        return text_box(self._items(ticket), self._paper.spec, needle)

    def paper_image(self, ticket: int | None = None) -> Image.Image:
        """The paper (or ticket number ``ticket``, as in :meth:`tickets`) as a picture."""
        return render(self._items(ticket), self._paper.spec)

    def paper_png(self, path: str | Path, ticket: int | None = None) -> Path:
        """Save :meth:`paper_image` as a PNG and return its path."""
        path = Path(path)
        self.paper_image(ticket).save(path, format="PNG")
        return path

    def _items(self, ticket: int | None) -> list[Item]:
        with self._lock:
            if ticket is None:
                return list(self._paper.items)
            return list(self._paper.pieces()[ticket])
