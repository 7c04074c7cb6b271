"""The kiosk process: the ledger served over MQTT, category buttons, lamps and the ticket printer.

The kiosk keeps issuing tickets when the network is down: the ledger is
local, and paho queues the events and board state until the broker is back.

Example (the simulator does this with mock pins and the simulated printer)::

    node = KioskNode(site, credentials, pin_factory=MockFactory())
    node.start()
    node.issuer.press("mykad")
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from escpos.escpos import Escpos
from gpiozero.pins import Factory

from giliran import __version__
from giliran.config import SiteConfig, load_site
from giliran.errors import GiliranError, StorageFault
from giliran.gpio import make_pin_factory
from giliran.ledger import Ledger
from giliran.ledger_clock import ClockReading
from giliran.ledger_store import Ticket
from giliran.mqtt import Credentials, MqttNode, credentials_for
from giliran.press_guard import KeyGuard
from giliran.protocol import TechCommand
from giliran.timesync import kernel_synchronized
from giliran.watchdog import systemd_service
from kiosk.buttons import CategoryButtons
from kiosk.issuer import TicketIssuer
from kiosk.lamps import Lamps
from kiosk.service import LedgerService
from kiosk.storage import StorageWatch
from printer.connection import build_printer, close_printer, require_backend
from printer.layout import load_logo

log = logging.getLogger(__name__)

TICK_S = 1.0
PRINTER_POLL_S = 5.0
BOARD_REFRESH_S = 60.0


class KioskNode:
    """Everything the kiosk runs, wired together; ``tick()`` is its main-loop step."""

    def __init__(
        self,
        site: SiteConfig,
        credentials: Credentials | None,
        *,
        site_path: Path | None = None,
        pin_factory: Factory | None = None,
        printer: Escpos | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        ledger_path: Path | None = None,
        ledger_monotonic: Callable[[], float] | None = None,
        ledger_synced: Callable[[], bool] | None = None,
    ) -> None:
        """``monotonic`` drives debounce and polls; ``ledger_monotonic`` (seconds since boot: ``time.monotonic``
        on a Pi) lets the ledger tell a clock step from time passing (see giliran.ledger_clock); without it
        the wall ``clock`` is taken as monotonic, as the simulator's scenario clock is. ``ledger_synced``
        (giliran.timesync on a Pi) says whether NTP keeps the clock right."""
        self.site_path = site_path
        self._monotonic = monotonic
        self._started = monotonic()
        path = ledger_path or Path(site.site.ledger)
        try:
            self.ledger = Ledger(path, site, clock, ledger_monotonic, ledger_synced)
        except StorageFault as fault:  # one line from the CLI, no traceback
            raise StorageFault(fault.problem, f"the kiosk cannot open its ledger {path}: {fault}") from None
        self.mqtt = MqttNode(site, "kiosk", "kiosk", credentials)
        self.service = LedgerService(self.ledger, self.mqtt)
        self.storage = StorageWatch(self.ledger, path, self.service.error_event)
        self.pin_factory = pin_factory or make_pin_factory(site.kiosk.pin_factory)
        self._owns_printer = printer is None
        if printer is None:
            require_backend(site.printer)
        self.printer = printer or build_printer(site.printer)
        self.lamps = Lamps(site, self.pin_factory)
        self.issuer = TicketIssuer(self.ledger, self.printer, self.lamps, self.service, self.storage,
                                   logo=load_logo(site, site_path.parent if site_path else None))
        self.presses = KeyGuard(site.kiosk.debounce_ms / 1000, site.kiosk.cooldown_s, monotonic)
        self.buttons = CategoryButtons(site, self.pin_factory, self.presses, self.issuer.press)
        self.issuer.on_change(self.publish_status)
        self.service.on_storage_fault(self.storage.failed)
        self.storage.on_change(self._storage_changed)
        self.storage.on_written(self._written_late)
        self.service.on_tech("test_print", lambda _cmd: self.issuer.test_print())
        self.service.on_tech("reprint", lambda _cmd: self.issuer.reprint())
        self.service.on_tech("reload", self._reload)
        self.service.on_tech("clock_ok", lambda _cmd: f"clock: {self.ledger.accept_clock().text}")
        self._last_poll = self._last_refresh = monotonic()
        self._clock_state = "ok"

    def start(self) -> None:
        self.storage.start()
        self.issuer.poll_printer()
        self.issuer.refresh_lamps()
        self.publish_status()
        self.mqtt.start()

    def tick(self) -> None:
        """One main-loop step: lamps follow the hours, the printer is polled, the board refreshed."""
        now = self._monotonic()
        self._watch_clock()
        self.issuer.refresh_lamps()
        if now - self._last_poll >= PRINTER_POLL_S:
            self.issuer.poll_printer()
            self.storage.poll()
            self._last_poll = now
        if now - self._last_refresh >= BOARD_REFRESH_S:
            # Estimated waits drift with time and the service day rolls over.
            self.service.changed()
            self.publish_status()
            self._last_refresh = now

    def _clock_reading(self) -> ClockReading | None:
        """The ledger's clock state (None while the ledger's disk fails: the storage fields say why)."""
        try:
            return self.ledger.check_clock()
        except StorageFault:
            return None

    def _watch_clock(self) -> None:
        """A clock that went behind, or jumped and is held, is a fault a technician must see at once."""
        reading = self._clock_reading()
        if reading is None or reading.state == self._clock_state:
            return
        self._clock_state = reading.state
        if reading.state != "ok":
            self.service.error_event("clock", f"clock: {reading.text}")
        self.publish_status()

    def status_details(self) -> dict[str, str | int | float | bool | None]:
        health = self.issuer.health
        details: dict[str, str | int | float | bool | None] = dict(health.details()) if health else {}
        stats = self.issuer.stats
        details.update(
            printer_message=health.message if health else None,
            paper_warning=health.warning if health else None,
            presses_ignored=self.presses.ignored,
            refused_closed=stats.refused_closed,
            refused_quota=stats.refused_quota,
            refused_printer_fault=stats.refused_fault,
            refused_ledger_fault=stats.refused_ledger,
            voided=stats.voided,
            uptime_s=round(self._monotonic() - self._started),
            clock=reading.text if (reading := self._clock_reading()) else None,
            clock_offset_s=round(reading.offset_s) if reading else None,
            version=__version__,
        )
        details.update(self.storage.details())
        try:
            details.update({f"issued.{cat}": n for cat, n in self.ledger.issued_today().items()})
        except StorageFault:  # the status must still go out, saying why (the storage fields)
            pass
        return details

    def publish_status(self) -> None:
        self.mqtt.set_status(**self.status_details())

    def _storage_changed(self) -> None:
        self.issuer.refresh_lamps()
        self.publish_status()

    def _written_late(self, event: str, ticket: Ticket) -> None:
        """A printed ticket's confirmation, kept while the disk failed, is in the ledger now."""
        self.service.changed(event, ticket)

    def _reload(self, _cmd: TechCommand) -> str:
        if self.site_path is None:
            raise GiliranError("this kiosk was not started from a site file")
        site = load_site(self.site_path)
        self.ledger.reload(site)
        self.issuer.refresh_lamps()
        self.service.changed()
        return f"reloaded {self.site_path}; button and lamp pin changes take effect at the next restart"

    def close(self) -> None:
        """Release pins, MQTT and the ledger; a printer passed in stays open (the simulator keeps it)."""
        self.buttons.close()
        self.lamps.close()
        self.service.close()
        self.mqtt.stop()
        if self._owns_printer:
            close_printer(self.printer)
        self.ledger.close()


def run_kiosk(site: SiteConfig, site_path: Path, credentials_dir: Path) -> int:
    """Run until SIGTERM/SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    node = KioskNode(site, credentials_for(site, "kiosk", credentials_dir), site_path=site_path,
                     ledger_monotonic=time.monotonic, ledger_synced=kernel_synchronized)
    node.start()
    log.info("kiosk for site %s running", site.site.id)
    try:
        # No broker health check: the kiosk must keep issuing tickets while the network is down.
        with systemd_service(f"kiosk of site {site.site.id}") as watchdog:
            while not stop.wait(TICK_S):
                node.tick()
                watchdog.tick()
    finally:
        node.close()
    return 0
