"""Kiosk benchmark: button press → last byte at the (simulated) printer, and the kiosk's memory.

Run: ``.venv/bin/python -m bench.kiosk`` (starts its own Mosquitto on a loopback port).
Each press goes through gpiozero's mock pin, the debounce filter, the durable
ledger (reserve + confirm: two fsyncs), the ticket layout, python-escpos and the
printer's status checks before and after, as on a Pi.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from bench.common import print_table, rss_mb, summary_ms
from bench.ledger import open_all_day
from giliran.config import load_site
from hardware_sim.broker import LocalBroker
from hardware_sim.printer import SimulatedPrinter
from kiosk.node import KioskNode

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presses", type=int, default=500)
    args = parser.parse_args()
    site = open_all_day(load_site(ROOT / "examples" / "site.toml"))
    rss_before = rss_mb()
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(site, Path(tmp) / "broker") as broker:
        printer = SimulatedPrinter(site.printer.profile, paper_mm=site.printer.paper_mm)
        factory = MockFactory()
        node = KioskNode(broker.site, broker.credentials("kiosk"), pin_factory=factory, printer=printer,
                         ledger_path=Path(tmp) / "ledger.sqlite")
        node.start()
        node.mqtt.wait_connected(5)
        pins = [factory.pin(c.button_pin) for c in broker.site.categories if c.button_pin is not None]
        samples = []
        try:
            for i in range(args.presses + 20):
                pin = pins[i % len(pins)]
                start = time.monotonic()
                pin.drive_low()
                pin.drive_high()
                assert printer.last_byte_at is not None
                if i >= 20:  # warm-up
                    samples.append(printer.last_byte_at - start)
                time.sleep(0.005)  # customers do not press 200 times a second; let MQTT drain
                node.presses._accepted.clear()  # bench only: skip the 2 s cool-down
            issued = sum(node.ledger.issued_today().values())
        finally:
            node.close()
            factory.close()
    figures = summary_ms(samples)
    print_table("Kiosk (bench/kiosk.py)", [
        (f"press → last byte at printer, p50 ({len(samples)} presses)", f"{figures['p50']:.2f} ms", "—"),
        ("press → last byte at printer, p99", f"{figures['p99']:.2f} ms", "<= 30 ms"),
        ("press → last byte at printer, max", f"{figures['max']:.2f} ms", "—"),
        ("tickets issued", f"{issued}", f"{args.presses + 20}"),
        ("kiosk process peak RSS (incl. benchmark harness)", f"{rss_mb():.0f} MB", "<= 80 MB"),
        ("RSS before the kiosk started (interpreter + imports)", f"{rss_before:.0f} MB", "—"),
    ])


if __name__ == "__main__":
    main()
