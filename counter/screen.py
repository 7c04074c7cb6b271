"""What the counter's number board shows, and what the node knows about its counter.

The *base* line follows this counter's row in the ledger: the number it
serves, ``PAUS`` when paused, ``----`` when open and free, blank when closed,
``WAIT`` until the node has heard from the kiosk. Replies to this counter's
own commands change it at once; the retained board state changes it too,
but only when this counter's row changes there, so a command given from the
command line, or a node restart, shows on the board as well.

A *notice* covers the base line for a few seconds: ``-> B`` while Transfer
picks a target, ``----`` when Next finds no one waiting, ``BUSY``, ``WAIT``
(offline), ``ERR``. The table is in docs/COUNTER.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from counter.serial_display import BLANK, NUMBER_WIDTH, Line, LineDisplay
from giliran.protocol import CounterReply

log = logging.getLogger(__name__)

NOTICE_S = 4.0

STARTING = Line("WAIT", "starting")
FREE = Line("----", "free")
PAUSED = Line("PAUS", "paused")
BUSY = Line("BUSY", "one moment")
OFFLINE = Line("WAIT", "offline")
NO_TARGETS = Line("ERR", "no transfer targets")

#: Refusals whose honest answer is "nobody here": shown as the idle text, not as an error.
ERROR_LINES = {
    "nobody_waiting": Line("----", "no one waiting"),
    "not_serving": Line("----", "no one served"),
}


def base_line(state: str | None, serving: str | None) -> Line:
    """The line for a counter in ``state`` serving ``serving`` (None: not heard from the kiosk yet)."""
    if state is None:
        return STARTING
    if state == "paused":
        return PAUSED
    if serving:
        return Line(board_number(serving), "now serving")
    return BLANK if state == "closed" else FREE


def board_number(number: str) -> str:
    """A ticket number for the board's four-character field: A1000 shows as 1000.

    From the 1000th ticket of a category on, the prefix letter gives way to the
    digits (the hall's boards, the ticket and the PA still carry the full number);
    past 9999 the last four digits show.
    """
    return number if len(number) <= NUMBER_WIDTH else number[-NUMBER_WIDTH:]


def error_line(code: str) -> Line:
    """The notice for a refused command, by its stable error code."""
    return ERROR_LINES.get(code, Line("ERR", code.replace("_", " ")))


def transfer_line(prefix: str, category: str) -> Line:
    return Line(f"-> {prefix}", f"to {category}")


class Screen:
    """The counter's state as last heard, and the board that shows it. Thread-safe.

    Example::

        screen = Screen(display, time.monotonic)
        screen.reply(reply)          # a 'next' reply for A012: the board shows A012
        screen.notice(BUSY)          # for NOTICE_S seconds, then A012 again (on tick)
    """

    def __init__(self, display: LineDisplay, clock: Callable[[], float], notice_s: float = NOTICE_S) -> None:
        self.display = display
        self.notice_s = notice_s
        self._clock = clock
        self._lock = threading.RLock()
        self.state: str | None = None
        self.serving: str | None = None
        self.known = threading.Event()
        self._board_row: tuple[str, str | None] | None = None
        self._notice: Line | None = None
        self._notice_until = 0.0
        self._shown: Line | None = None

    @property
    def line(self) -> Line:
        """What the board should show now."""
        with self._lock:
            return self._notice or base_line(self.state, self.serving)

    def start(self) -> None:
        self._refresh()

    def follow(self, state: str, serving: str | None) -> None:
        """This counter's row on the board state; acted on only when it changed there."""
        with self._lock:
            if self._board_row != (state, serving):
                self._board_row = (state, serving)
                self.state, self.serving = state, serving
                self._refresh()
        self.known.set()

    def reply(self, reply: CounterReply) -> None:
        """Show the kiosk's answer to one of this counter's commands."""
        with self._lock:
            if not reply.ok:
                self.notice(error_line(reply.error.code if reply.error else "error"))
                return
            number = reply.ticket.number if reply.ticket else None
            match reply.action:
                case "next" | "open":
                    self.state, self.serving = "open", number
                case "recall":
                    self.serving = number
                case "done" | "no_show" | "transfer":
                    self.serving = None
                case "pause":
                    self.state, self.serving = "paused", number
                case "close":
                    self.state, self.serving = "closed", None
                case _:
                    return
            self._notice = None
            # A recall resends the same number, so a board that flashes on every line flashes again.
            self._refresh(force=reply.action == "recall")
        self.known.set()

    def notice(self, line: Line, seconds: float | None = None) -> None:
        """Cover the base line with ``line`` for ``seconds`` (default NOTICE_S)."""
        with self._lock:
            self._notice = line
            self._notice_until = self._clock() + (self.notice_s if seconds is None else seconds)
            self._refresh()

    def drop_notice(self, line: Line) -> None:
        """End the notice early, if ``line`` is still the one shown."""
        with self._lock:
            if self._notice == line:
                self._notice = None
                self._refresh()

    def tick(self) -> None:
        """Let notices expire, and let a board that is gone come back."""
        with self._lock:
            if self._notice is not None and self._clock() >= self._notice_until:
                self._notice = None
                self._refresh()
            self.display.tick()

    def blank(self) -> None:
        """Clear the board (the node is stopping: the counter serves no one)."""
        with self._lock:
            self.display.show(BLANK)
            self._shown = BLANK

    def _refresh(self, force: bool = False) -> None:
        line = self.line
        if force or line != self._shown:
            log.debug("board shows %r", line)
            self.display.show(line)
            self._shown = line
