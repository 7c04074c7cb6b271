"""A counter's LED number board on a pseudo-terminal: it records every line the counter node sent.

The node opens :attr:`VirtualCounterBoard.path` with pyserial exactly as it
would open ``/dev/ttyUSB0``. That path is a stable symlink (like
``/dev/serial/by-id/...``) to the current pty, so the board can be pulled
out (:meth:`unplug`: the node's next write fails with EIO, the path is gone)
and plugged back in (:meth:`plug`: a new pty behind the same path, which the
node's retry finds).

Example::

    with VirtualCounterBoard(tmp_path / "ttyCOUNTER3") as board:
        node = CounterNode(site, 3, creds, pin_factory=MockFactory(), serial_port=str(board.path))
        ...
        board.wait_for("A001  3")       # the line as the board shows it, terminator stripped
        board.received()                # every byte, e.g. b'WAIT  3\\r\\nA001  3\\r\\n'
        board.lines_at()                # [(clock() when the line was complete, 'WAIT  3'), ...]
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class VirtualCounterBoard:
    """A pluggable pty number board; ``close()`` (or ``with``) stops its reader thread."""

    def __init__(self, path: Path, *, plugged: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._data = bytearray()
        self._line_at: list[float] = []
        self._changed = threading.Condition()
        self._fds: tuple[int, int, int, int] | None = None
        self._thread: threading.Thread | None = None
        if plugged:
            self.plug()

    def __enter__(self) -> VirtualCounterBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def plugged(self) -> bool:
        return self._fds is not None

    def plug(self) -> None:
        """Connect the board: a fresh pty behind :attr:`path`."""
        if self._fds is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # bytes as they are: no echo, no CR/LF translation
        wake_r, wake_w = os.pipe()
        self._fds = (master, slave, wake_r, wake_w)
        self.path.unlink(missing_ok=True)
        self.path.symlink_to(os.ttyname(slave))
        self._thread = threading.Thread(target=self._read, args=(master, wake_r), daemon=True,
                                        name=f"counter-board {self.path.name}")
        self._thread.start()

    def unplug(self) -> None:
        """Pull the cable: writes to the open port fail and the path disappears."""
        if self._fds is None:
            return
        master, slave, wake_r, wake_w = self._fds
        self._fds = None
        os.write(wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.path.unlink(missing_ok=True)
        for fd in (master, slave, wake_r, wake_w):
            os.close(fd)

    def close(self) -> None:
        self.unplug()

    def received(self) -> bytes:
        """Every byte the board has received, across plugs."""
        with self._changed:
            return bytes(self._data)

    def lines(self) -> list[str]:
        """Every complete line received, terminators stripped."""
        return [raw.rstrip("\r") for raw in self.received().decode("ascii", "replace").split("\n")[:-1]]

    def lines_at(self) -> list[tuple[float, str]]:
        """Every complete line with the ``clock()`` reading when its last byte arrived (for benchmarks)."""
        with self._changed:
            return list(zip(self._line_at, self.lines(), strict=True))

    def shown(self) -> str | None:
        """The line the board shows now (the last complete one)."""
        lines = self.lines()
        return lines[-1] if lines else None

    def wait_for(self, wanted: str | Callable[[str], bool], timeout: float = 5.0) -> str:
        """Block until the board *shows* a matching line; AssertionError with what it showed otherwise."""
        match = wanted if callable(wanted) else (lambda line: line == wanted)
        with self._changed:
            if not self._changed.wait_for(lambda: (shown := self.shown()) is not None and match(shown), timeout):
                raise AssertionError(f"the board did not show {wanted!r} within {timeout} s; lines: {self.lines()}")
        return self.shown() or ""

    def _read(self, master: int, wake: int) -> None:
        while True:
            ready, _, _ = select.select([master, wake], [], [])
            if wake in ready:
                return
            try:
                data = os.read(master, 4096)
            except OSError as exc:
                log.debug("counter board read: %s", exc)
                continue
            at = self._clock()
            with self._changed:
                self._data += data
                self._line_at += [at] * data.count(b"\n")
                self._changed.notify_all()
