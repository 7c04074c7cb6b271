"""Put a simulated printer behind a pseudo-terminal, as if on a serial cable.

Code under test opens :attr:`PtyPrinter.path` with a real
``escpos.printer.Serial`` (pyserial underneath), exactly as it would open
``/dev/ttyUSB0``; a thread carries its bytes to the :class:`SimulatedPrinter`
and the printer's replies back. With ``sim.silent`` or ``sim.offline`` nothing
comes back, which is what a switched-off serial printer does.

Example::

    with PtyPrinter(SimulatedPrinter("TM-T20II")) as pty:
        printer = escpos.printer.Serial(devfile=pty.path, timeout=0.2)
        printer.is_online()      # True
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty

from hardware_sim.printer import SimulatedPrinter

log = logging.getLogger(__name__)


class PtyPrinter:
    """A pty whose far end is ``sim``; close it (or use ``with``) to stop the thread."""

    def __init__(self, sim: SimulatedPrinter) -> None:
        self.sim = sim
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: a serial line carries bytes as they are
        self.path = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name=f"pty-printer {self.path}", daemon=True)
        self._thread.start()

    def __enter__(self) -> PtyPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            os.write(self._wake_w, b"x")
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    def _serve(self) -> None:
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._master, 65536)
            except OSError as exc:  # EIO: no process has the terminal open right now
                log.debug("pty read: %s", exc)
                continue
            self.sim.receive(data)
            reply = self.sim.take_reply()
            if reply:
                os.write(self._master, reply)
