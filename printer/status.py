"""Ask the printer how it is, the way ESC/POS printers answer: DLE EOT n status bytes.

:func:`check` asks for the printer status (DLE EOT 1) first, because a printer
that says nothing must not be read as healthy: python-escpos's
``paper_status()`` returns 2 ("paper ok") when a Serial printer stays silent,
and a silent Network printer blocks for the socket timeout (60 s by default).
Then it reads the paper sensors (DLE EOT 4) and, when the printer is offline,
the cause (DLE EOT 2) and the error (DLE EOT 3).

Connections that cannot read back (File, Dummy, CUPS) report ``online=None``,
``paper="unknown"`` and no fault: printing blind is their honest state.

Example::

    health = check(printer)
    if health.fault:
        print(health.fault, health.message)   # 'paper_out', 'no paper: load a new roll ...'
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass
from typing import Literal

from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import File

log = logging.getLogger(__name__)

RT_STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"
RT_STATUS_ERROR_CAUSE = b"\x10\x04\x03"

# Bits of the DLE EOT replies (Epson ESC/POS reference; bits 1 and 4 are always on).
OFFLINE = 0x08  # n=1
COVER_OPEN = 0x04  # n=2
PAPER_END_STOP = 0x20  # n=2
ERROR = 0x40  # n=2
CUTTER_ERROR = 0x08  # n=3
UNRECOVERABLE = 0x20  # n=3
AUTO_RECOVERABLE = 0x40  # n=3
NEAR_END = 0x0C  # n=4
PAPER_END = 0x60  # n=4

Paper = Literal["ok", "near_end", "out", "unknown"]


@dataclass(frozen=True)
class PrinterHealth:
    """What the printer said. ``fault`` is None when it can print; codes are stable for MQTT.

    ``online`` and ``cover_open`` are None when the connection cannot read status.
    ``warning`` is "paper_near_end" while the roll runs low: print on, but tell someone.
    """

    online: bool | None
    paper: Paper
    cover_open: bool | None
    fault: str | None
    message: str
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.fault is None

    def details(self) -> dict[str, str]:
        """For the kiosk's retained status: ``{"printer": "ok" | fault | "unknown", "paper": ...}``."""
        if self.fault:
            state = self.fault
        elif self.online is None:
            state = "unknown"
        else:
            state = "ok"
        return {"printer": state, "paper": self.paper}


def can_read_status(printer: Escpos) -> bool:
    """Whether the connection carries replies back (python-escpos classes that override _read)."""
    return type(printer)._read is not Escpos._read


def check(printer: Escpos) -> PrinterHealth:
    """Ask the printer for its status; never raises for a printer problem."""
    if not can_read_status(printer):
        unopened = _file_problem(printer)
        if unopened:
            return _fault("disconnected", unopened)
        return PrinterHealth(
            online=None,
            paper="unknown",
            cover_open=None,
            fault=None,
            message=f"{type(printer).__name__} connection cannot read status; printing without checks",
        )
    try:
        if printer.device is None:  # an earlier open failed: try again, the cable may be back
            printer.open()
        status = _ask(printer, RT_STATUS_ONLINE)
        if status is None:
            return _no_answer(printer)
        paper_byte = _ask(printer, RT_STATUS_PAPER)
        if paper_byte is None:
            return _no_answer(printer)
        paper = _paper(paper_byte)
        cause = error = 0
        if status & OFFLINE:
            cause = _ask(printer, RT_STATUS_OFFLINE_CAUSE) or 0
            error = (_ask(printer, RT_STATUS_ERROR_CAUSE) or 0) if cause & ERROR else 0
    except OSError as exc:
        if is_timeout(exc):
            return _no_answer(printer)
        drop_connection(printer)
        return _fault("disconnected", f"lost the printer connection: {exc}")
    except EscposError as exc:
        drop_connection(printer)
        return _fault("disconnected", f"printer not found: {exc}")
    return _health(status, paper, cause, error)


def _file_problem(printer: Escpos) -> str | None:
    """A File printer prints blind, but its folder must be there: a typo, or /dev/usb/ with no printer plugged.

    Checked without opening: ``open(path, "wb")`` would create a stray file (or truncate one) just to ask.
    """
    if not isinstance(printer, File):
        return None
    path = str(printer.devfile)
    if os.path.isdir(path):
        reason = os.strerror(errno.EISDIR)
    elif os.path.exists(path):
        if os.access(path, os.W_OK):
            return None
        reason = os.strerror(errno.EACCES)
    elif os.path.isdir(os.path.dirname(path) or "."):
        return None  # printing creates it, as python-escpos does
    else:
        reason = os.strerror(errno.ENOENT)
    return f"cannot open the printer file {path}: {reason}"


def drop_connection(printer: Escpos) -> None:
    """Close a broken connection so the next :func:`check` opens it afresh (a replugged cable)."""
    try:
        printer.close()
    except (OSError, EscposError) as exc:
        log.debug("closing the broken printer connection failed too: %s", exc)
    printer.device = None


def _ask(printer: Escpos, request: bytes) -> int | None:
    """One status byte, or None when the printer said nothing.

    The last byte is taken: a reply that came late to an earlier request may
    still sit in front of it.
    """
    reply = printer.query_status(request)
    return reply[-1] if len(reply) else None


def _paper(byte: int) -> Paper:
    if byte & PAPER_END == PAPER_END:
        return "out"
    if byte & NEAR_END == NEAR_END:
        return "near_end"
    return "ok"


def _health(status: int, paper: Paper, cause: int, error: int) -> PrinterHealth:
    online = not status & OFFLINE
    cover = bool(cause & COVER_OPEN)
    warning = "paper_near_end" if paper == "near_end" else None

    def fault(code: str, message: str) -> PrinterHealth:
        return PrinterHealth(online, paper, cover, code, message, warning)

    if cover:
        return fault("cover_open", "the paper cover is open: close it")
    if paper == "out" or cause & PAPER_END_STOP:
        return fault("paper_out", "no paper: load a new roll")
    if error & CUTTER_ERROR:
        return fault("cutter_error", "the autocutter is jammed: open the cover and clear the paper")
    if not online:
        detail = "an unrecoverable error" if error & UNRECOVERABLE else "an error"
        if error & AUTO_RECOVERABLE:
            detail = "the head is too hot (it recovers by itself)"
        return fault("printer_error", f"the printer is offline with {detail}: check its lamps")
    if warning:
        return PrinterHealth(online, paper, cover, None, "paper near its end: change the roll soon", warning)
    return PrinterHealth(online, paper, cover, None, "ready")


def _no_answer(printer: Escpos) -> PrinterHealth:
    return _fault(
        "no_answer",
        f"the {type(printer).__name__} printer did not answer a status request: "
        "is it switched on, and its cable in?",
    )


def _fault(code: str, message: str) -> PrinterHealth:
    return PrinterHealth(online=False, paper="unknown", cover_open=None, fault=code, message=message)


def is_timeout(exc: OSError) -> bool:
    """Socket timeouts are TimeoutError; pyusb's USBTimeoutError carries ETIMEDOUT."""
    return isinstance(exc, TimeoutError) or exc.errno == errno.ETIMEDOUT
