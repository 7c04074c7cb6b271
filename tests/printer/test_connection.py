"""build_printer: the right python-escpos class, with short timeouts, and nothing opened yet."""

from __future__ import annotations

import pytest
from escpos.printer import File, Network, Usb

from giliran.config import (
    FileConnection,
    NetworkConnection,
    SerialConnection,
    SiteConfig,
    UsbConnection,
)
from giliran.errors import ConfigError
from hardware_sim.printer import SimulatedPrinter
from printer.connection import QuickSerial, build_printer, close_printer, describe

from .conftest import with_printer


def test_usb_timeout_is_in_milliseconds(site: SiteConfig) -> None:
    cfg = with_printer(
        site, connection="usb", usb=UsbConnection(vendor_id=0x04B8, product_id=0x0E15), timeout_s=1.5
    ).printer
    printer = build_printer(cfg)
    assert isinstance(printer, Usb)
    assert printer.usb_args == {"idVendor": 0x04B8, "idProduct": 0x0E15}
    assert printer.timeout == 1500
    assert describe(cfg) == "usb 04b8:0e15"


def test_serial_reads_replies_as_they_come(site: SiteConfig) -> None:
    cfg = with_printer(site, connection="serial", serial=SerialConnection(device="/dev/ttyUSB0", baudrate=38400)).printer
    printer = build_printer(cfg)
    assert isinstance(printer, QuickSerial)
    assert (printer.devfile, printer.baudrate, printer.timeout) == ("/dev/ttyUSB0", 38400, 2.0)
    assert describe(cfg) == "serial /dev/ttyUSB0 at 38400 baud"


def test_network_never_uses_the_60_second_default(site: SiteConfig) -> None:
    cfg = with_printer(site, connection="network", network=NetworkConnection(host="192.0.2.10")).printer
    printer = build_printer(cfg)  # does not connect: the kiosk starts with the printer away
    assert isinstance(printer, Network)
    assert (printer.host, printer.port, printer.timeout) == ("192.0.2.10", 9100, 2.0)
    assert describe(cfg) == "network 192.0.2.10:9100"


def test_file_and_sim(site: SiteConfig) -> None:
    file_cfg = with_printer(site, connection="file", file=FileConnection(path="/dev/usb/lp0")).printer
    printer = build_printer(file_cfg)
    assert isinstance(printer, File) and printer.devfile == "/dev/usb/lp0"
    sim = build_printer(with_printer(site, profile="POS-5890", paper_mm=58).printer)
    assert isinstance(sim, SimulatedPrinter)
    assert (sim.paper_mm, sim.printable_dots, sim.timeout_s) == (58, 384, 2.0)
    assert sim.profile.profile_data["name"] == "POS5890 Series"
    close_printer(sim)


def test_unknown_profile_names_the_key(site: SiteConfig) -> None:
    with pytest.raises(ConfigError, match=r"printer.profile: 'TM-X999' is not a python-escpos profile"):
        build_printer(with_printer(site, profile="TM-X999").printer)
