"""Print with checks before and after, so the kiosk knows whether to confirm or void.

A printer without paper still accepts bytes: it holds them and prints them
when a roll goes in (python-escpos's writes "succeed" either way). So a
successful write proves nothing.
:func:`send_checked` checks the printer before sending (nothing is sent to a
printer that cannot print), sends the whole job in one write, and checks again.
If the printer stopped meanwhile (paper ran out mid-ticket, cover opened), it
asks the printer to drop what it still holds (DLE DC4 8, Epson's real-time
buffer clear), so a voided ticket does not print itself when the roll is
changed, and raises :class:`~giliran.errors.PrinterFault`.

Limitation: the second check follows the write at once. A real printer may
still be printing the ticket; paper that runs out in the last centimetres shows
up at the next ticket's first check instead.

Example::

    try:
        health = print_ticket_checked(printer, ticket, site, logo)
    except PrinterFault as fault:
        ledger.void(reserved.id, fault.code)
    else:
        ledger.confirm(reserved.id)     # health.warning may say "paper_near_end"
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy
from PIL import Image

from giliran.config import SiteConfig
from giliran.errors import PrinterFault
from printer.layout import ClosedSlip, TicketPrint, draw_closed_slip, draw_test_page, draw_ticket
from printer.status import PrinterHealth, check, drop_connection, is_timeout

log = logging.getLogger(__name__)

#: DLE DC4 fn=8: clear the receive and print buffers (real-time; the printer replies 37 25 00).
CLEAR_BUFFER = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
_HOLDING_FAULTS = frozenset({"paper_out", "cover_open", "cutter_error", "printer_error"})


def render(site: SiteConfig, draw: Callable[[Escpos], None]) -> bytes:
    """The bytes a layout produces for the site's printer model (drawn on a python-escpos Dummy)."""
    dummy = Dummy(profile=site.printer.profile)
    draw(dummy)
    return dummy.output


def send_checked(printer: Escpos, data: bytes, what: str) -> PrinterHealth:
    """Check, send ``data`` in one write, check again; raise PrinterFault if it may not have printed.

    ``what`` names the job in messages ("ticket A001"). Returns the health after
    printing, whose ``warning`` may be "paper_near_end".
    """
    before = check(printer)
    if before.fault == "disconnected":
        before = check(printer)  # the connection was reopened: the cable may be back
    if before.fault:
        raise PrinterFault(before.fault, f"{what} not printed: {before.message}")
    try:
        printer._raw(data)  # python-escpos's one seam to the device: the whole job in one write
    except OSError as exc:
        drop_connection(printer)
        code = "timeout" if is_timeout(exc) else "disconnected"
        raise PrinterFault(code, f"{what} not printed: writing to the printer failed: {exc}") from exc
    except EscposError as exc:
        drop_connection(printer)
        raise PrinterFault("disconnected", f"{what} not printed: {exc}") from exc
    after = check(printer)
    if after.fault:
        if after.fault in _HOLDING_FAULTS:
            discard_buffered(printer)
        raise PrinterFault(after.fault, f"{what} may not have come out: {after.message}")
    log.info("%s printed (%d bytes)", what, len(data))
    return after


def discard_buffered(printer: Escpos) -> None:
    """Ask the printer to forget data it holds; printers without DLE DC4 8 ignore it."""
    try:
        reply = printer.query_status(CLEAR_BUFFER)
    except (OSError, EscposError) as exc:
        log.warning("could not clear the printer's buffer: %s", exc)
        return
    log.info("printer buffer cleared (reply %s)", bytes(reply).hex(" ") or "none")


def print_ticket_checked(
    printer: Escpos, ticket: TicketPrint, site: SiteConfig, logo: Image.Image | None = None
) -> PrinterHealth:
    """Print one queue ticket with :func:`send_checked`."""
    data = render(site, lambda p: draw_ticket(p, ticket, site, logo))
    return send_checked(printer, data, f"ticket {ticket.number}")


def print_closed_slip_checked(
    printer: Escpos, slip: ClosedSlip, site: SiteConfig, logo: Image.Image | None = None
) -> PrinterHealth:
    """Print the "closed / quota reached" slip (when ``site.printer.closed_slip`` is on)."""
    data = render(site, lambda p: draw_closed_slip(p, slip, site, logo))
    return send_checked(printer, data, f"{slip.reason} slip")


def print_test_page_checked(
    printer: Escpos, site: SiteConfig, at: dt.datetime, logo: Image.Image | None = None
) -> PrinterHealth:
    """Print the technician's test page (the "test print" command)."""
    data = render(site, lambda p: draw_test_page(p, site, at, logo))
    return send_checked(printer, data, "test page")
