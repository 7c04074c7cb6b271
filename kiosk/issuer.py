"""From a button press to a ticket in the customer's hand, or a clear "no".

The number is durably reserved, printed with checks before and after, then
confirmed. If printing fails the number is voided (never issued again, never
left waiting as a ghost), the lamps go to fault and the hall is told. While
the printer is faulty a press asks the printer again before reserving a
number, so a long outage burns no numbers; the kiosk's main loop also polls
the printer and recovers by itself when the roll or the cable is back.

Example::

    issuer = TicketIssuer(ledger, printer, lamps, service, storage)
    issuer.press("mykad")     # prints A001, or reports why not
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from escpos.escpos import Escpos
from PIL import Image

from giliran.errors import LedgerError, PrinterFault, StorageFault
from giliran.ledger import Ledger, minutes
from giliran.ledger_store import Ticket
from kiosk.lamps import LampMode, Lamps
from kiosk.service import LedgerService
from kiosk.storage import StorageWatch
from printer.layout import ClosedSlip, TicketPrint
from printer.status import PrinterHealth, check
from printer.transaction import print_closed_slip_checked, print_test_page_checked, print_ticket_checked

log = logging.getLogger(__name__)


@dataclass
class IssuerStats:
    """Counts for the kiosk's retained status."""

    refused_closed: int = 0
    refused_quota: int = 0
    refused_fault: int = 0
    refused_ledger: int = 0
    voided: int = 0


class TicketIssuer:
    """Serialises presses: one ticket at a time, one ticket per accepted press."""

    def __init__(self, ledger: Ledger, printer: Escpos, lamps: Lamps, service: LedgerService,
                 storage: StorageWatch, logo: Image.Image | None = None) -> None:
        self.ledger = ledger
        self.storage = storage
        self.printer = printer
        self.lamps = lamps
        self.service = service
        self.logo = logo
        self.stats = IssuerStats()
        self.health: PrinterHealth | None = None
        self.last_ticket: Ticket | None = None
        self._lock = threading.Lock()
        self._on_change: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Called after every press or printer state change (the node republishes its status)."""
        self._on_change.append(listener)

    @property
    def fault(self) -> str | None:
        return self.health.fault if self.health else None

    # --- presses ---------------------------------------------------------------

    def press(self, category: str) -> Ticket | None:
        """Issue one ticket of ``category``; None when refused (closed, quota, printer fault)."""
        with self._lock:
            try:
                return self._press(category)
            finally:
                self.refresh_lamps()
                self._changed()

    def _press(self, category: str) -> Ticket | None:
        """No ticket while the ledger's disk fails: one printed but never recorded would be a ghost."""
        if self.storage.fault is None:
            try:
                return self._issue(category)
            except StorageFault as fault:
                self.storage.failed(fault)
        self.stats.refused_ledger += 1
        log.warning("press of %s refused: ledger storage fault", category)
        return None

    def _issue(self, category: str) -> Ticket | None:
        reason = self.ledger.availability(category)
        if reason is not None:
            self._refuse(category, reason)
            return None
        if self.fault and not self._printer_recovered():
            self.stats.refused_fault += 1
            log.warning("press of %s ignored: printer fault %s", category, self.fault)
            return None
        try:
            reserved = self.ledger.reserve(category)
        except StorageFault:
            raise
        except LedgerError as exc:  # closed or quota full between the check and now
            self._refuse(category, exc.code)
            return None
        self.lamps.set(category, LampMode.PRINTING)
        try:
            self.health = print_ticket_checked(self.printer, self._ticket_print(reserved), self.ledger.site, self.logo)
        except PrinterFault as fault:
            self.stats.voided += 1
            self._fault(fault)
            try:
                voided = self.ledger.void(reserved.id, fault.code)
            except StorageFault as storage:
                self.storage.failed(storage)
                self.storage.keep(reserved.id, void_reason=fault.code)
            else:
                self.service.changed("voided", voided)
            return None
        self.last_ticket = reserved
        ticket = self._confirm(reserved)
        if ticket is not None:
            self.last_ticket = ticket
            self.service.changed("issued", ticket)
        return ticket or reserved

    def _confirm(self, reserved: Ticket) -> Ticket | None:
        """The ticket is on paper: into the queue, even if the disk filled while it printed.

        The reserve file's space is released for this one confirmation; if the
        write still fails it is kept for the disk's recovery (None here).
        """
        try:
            return self.ledger.confirm(reserved.id)
        except StorageFault as fault:
            self.storage.failed(fault)
        if self.storage.release_reserve():
            try:
                return self.ledger.confirm(reserved.id)
            except StorageFault as fault:
                self.storage.failed(fault)
        self.storage.keep(reserved.id)
        return None

    def _refuse(self, category: str, reason: str) -> None:
        """Closed, no counter left today, or quota full: nothing is issued; a short slip if the site wants one."""
        if reason == "quota_full":
            self.stats.refused_quota += 1
        else:
            self.stats.refused_closed += 1
        log.info("press of %s refused: %s", category, reason)
        site = self.ledger.site
        if not site.printer.closed_slip or self.fault:
            return
        cat = site.category(category)
        slip = ClosedSlip(reason={"quota_full": "quota", "no_counter": "no_counter"}.get(reason, "closed"),  # type: ignore[arg-type]
                          at=self.ledger.local(self.ledger.now()), category_names=cat.name,
                          hours=site.hours_of(cat))
        try:
            self.health = print_closed_slip_checked(self.printer, slip, site, self.logo)
        except PrinterFault as fault:
            self._fault(fault)

    def _ticket_print(self, ticket: Ticket, copy: bool = False) -> TicketPrint:
        cat = self.ledger.site.category(ticket.category)
        return TicketPrint(
            number=ticket.number,
            category_id=cat.id,
            category_names=cat.name,
            issued_at=self.ledger.local(ticket.issued_at),
            ahead=ticket.ahead or 0,
            est_wait_min=minutes(ticket.est_wait_s),
            copy=copy,
            serving_from=self._serving_from(ticket) if not copy else None,
        )

    def _serving_from(self, ticket: Ticket) -> dt.time | None:
        """The local time its first counter opens, when that is still to come (the ticket says "from 09:00")."""
        opens_at = self.ledger.opening(ticket.category)[0]
        return None if opens_at is None else self.ledger.local(opens_at).time()

    # --- printer faults and recovery -------------------------------------------------

    def _fault(self, fault: PrinterFault) -> None:
        first = self.fault is None
        self.health = PrinterHealth(online=None, paper="unknown", cover_open=None, fault=fault.code,
                                    message=str(fault))
        if first:
            self.service.error_event(f"printer_{fault.code}", str(fault))

    def _printer_recovered(self) -> bool:
        health = check(self.printer)
        if health.fault:
            self.health = health
            return False
        log.info("printer recovered (was %s)", self.fault)
        self.health = health
        return True

    def poll_printer(self) -> None:
        """From the main loop: notice a fault clearing (or a warning appearing) with no press."""
        with self._lock:
            was = self.fault
            health = check(self.printer)
            if health.fault and not was:
                self.service.error_event(f"printer_{health.fault}", health.message)
            if health != self.health:
                self.health = health
                self.refresh_lamps()
                self._changed()

    # --- lamps, technician commands -------------------------------------------------------

    def refresh_lamps(self) -> None:
        """Every lamp blinks the fault pattern while the printer or the ledger's disk fails."""
        try:
            modes = {cat.id: self._lamp_mode(cat.id) for cat in self.ledger.site.categories}
        except StorageFault as fault:
            self.storage.failed(fault)  # its listeners refresh the lamps again, to the fault pattern
            return
        for category, mode in modes.items():
            self.lamps.set(category, mode)

    def _lamp_mode(self, category: str) -> LampMode:
        if self.fault or self.storage.fault:
            return LampMode.FAULT
        return LampMode.READY if self.ledger.availability(category) is None else LampMode.OFF

    def test_print(self) -> str:
        with self._lock:
            at = self.ledger.local(self.ledger.now())
            self._print_for_technician(lambda: print_test_page_checked(self.printer, self.ledger.site, at, self.logo))
            return "test page printed"

    def reprint(self) -> str:
        """Print the last ticket again, marked COPY; the ledger does not change."""
        with self._lock:
            if self.last_ticket is None:
                raise LedgerError("nothing_to_reprint", "no ticket has been printed since the kiosk started")
            copy = self._ticket_print(self.ledger.ticket(self.last_ticket.id), copy=True)
            self._print_for_technician(lambda: print_ticket_checked(self.printer, copy, self.ledger.site, self.logo))
            return f"{copy.number} reprinted as COPY"

    def _print_for_technician(self, job: Callable[[], PrinterHealth]) -> None:
        """A technician's print job: its fault is reported like a ticket's, and raised for the reply."""
        try:
            self.health = job()
        except PrinterFault as fault:
            self._fault(fault)
            raise
        finally:
            self.refresh_lamps()
            self._changed()

    def _changed(self) -> None:
        for listener in self._on_change:
            listener()
