"""The kiosk process: the ledger, served over MQTT, plus (unless headless) buttons and printer."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

from giliran.config import SiteConfig
from giliran.ledger import Ledger
from giliran.mqtt import MqttNode, credentials_for
from kiosk.service import LedgerService

log = logging.getLogger(__name__)

TICK_S = 1.0
REFRESH_S = 60.0


def run_kiosk(site: SiteConfig, credentials_dir: Path, *, headless: bool) -> int:
    """Run until SIGTERM/SIGINT. The ledger works (and tickets print) with the broker down."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    ledger = Ledger(Path(site.site.ledger), site, clock=time.time)
    mqtt = MqttNode(site, "kiosk", "kiosk", credentials_for(site, "kiosk", credentials_dir))
    service = LedgerService(ledger, mqtt)
    mqtt.start()
    log.info("kiosk for site %s running%s", site.site.id, " headless" if headless else "")
    last_refresh = time.monotonic()
    try:
        while not stop.wait(TICK_S):
            # Estimated waits drift with time and the service day can roll: refresh the board now and then.
            if time.monotonic() - last_refresh >= REFRESH_S:
                service.changed()
                last_refresh = time.monotonic()
    finally:
        service.close()
        mqtt.stop()
        ledger.close()
    return 0
