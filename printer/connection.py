"""Build the python-escpos printer that the site file's ``[printer]`` table describes.

Every connection gets the site's short ``timeout_s``: python-escpos's Network
default of 60 s would freeze the kiosk on a silent printer (python-escpos 3.1:
``paper_status()`` raises TimeoutError only after 60 s on a Network printer),
and pyusb takes its timeout in milliseconds. Nothing is opened here: the first
:func:`printer.status.check` opens the connection, so a kiosk starts even when
the printer is unplugged, and reports it.

Example::

    printer = build_printer(site.printer)
    try:
        health = check(printer)
    finally:
        close_printer(printer)
"""

from __future__ import annotations

import logging

from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError
from escpos.printer import File, Network, Serial, Usb

from giliran.config import Printer
from giliran.errors import MissingDependency
from printer.profile import load_profile

log = logging.getLogger(__name__)


class QuickSerial(Serial):
    """python-escpos's Serial printer, but a status read returns as soon as the reply is in.

    The stock ``_read`` asks pyserial for 16 bytes, so each status request waits
    the whole timeout although the printer answers with one byte at once: a
    check before and after a ticket would cost six timeouts.
    """

    def _read(self) -> bytes:
        port = self.device
        if port is None:
            raise DeviceNotFoundError(f"serial printer {self.devfile} is not open")
        first = port.read(1)  # waits up to the timeout for the first byte
        if not first:
            return b""
        return bytes(first) + bytes(port.read(port.in_waiting))


def build_printer(cfg: Printer) -> Escpos:
    """The python-escpos printer for ``cfg``, not yet opened; "sim" gives the simulator."""
    load_profile(cfg.profile)  # an unknown profile stops the node with the key's name
    if cfg.connection == "usb" and cfg.usb is not None:
        return Usb(
            idVendor=cfg.usb.vendor_id,
            idProduct=cfg.usb.product_id,
            timeout=int(cfg.timeout_s * 1000),  # pyusb counts milliseconds
            profile=cfg.profile,
        )
    if cfg.connection == "serial" and cfg.serial is not None:
        return QuickSerial(
            devfile=cfg.serial.device,
            baudrate=cfg.serial.baudrate,
            timeout=cfg.timeout_s,
            profile=cfg.profile,
        )
    if cfg.connection == "network" and cfg.network is not None:
        return Network(host=cfg.network.host, port=cfg.network.port, timeout=cfg.timeout_s, profile=cfg.profile)
    if cfg.connection == "file" and cfg.file is not None:
        return File(devfile=cfg.file.path, profile=cfg.profile)
    if cfg.connection == "sim":
        from hardware_sim.printer import SimulatedPrinter

        return SimulatedPrinter(cfg.profile, paper_mm=cfg.paper_mm, timeout_s=cfg.timeout_s)
    raise ValueError(f"printer.connection {cfg.connection!r} has no [printer.{cfg.connection}] table")


def require_backend(cfg: Printer) -> None:
    """Stop the kiosk in one line when the connection's library is missing (a restart cannot fix it).

    pyusb needs a C library (libusb-1.0) to see any USB device; without one every
    open fails with a traceback, on every status poll.
    """
    if cfg.connection != "usb":
        return
    try:
        import usb.core
    except ImportError:
        raise MissingDependency(f"printer {describe(cfg)}: pyusb is not installed (python-escpos's 'usb' extra)"
                                ) from None
    try:
        usb.core.find(find_all=True)  # raises before looking at any device when there is no backend
    except usb.core.NoBackendError:
        raise MissingDependency(f"printer {describe(cfg)}: pyusb finds no USB library; install Debian's "
                          "libusb-1.0-0") from None


def describe(cfg: Printer) -> str:
    """Where the printer is, for log lines and fault messages: 'usb 04b8:0e15', 'serial /dev/ttyUSB0'."""
    if cfg.connection == "usb" and cfg.usb is not None:
        return f"usb {cfg.usb.vendor_id:04x}:{cfg.usb.product_id:04x}"
    if cfg.connection == "serial" and cfg.serial is not None:
        return f"serial {cfg.serial.device} at {cfg.serial.baudrate} baud"
    if cfg.connection == "network" and cfg.network is not None:
        return f"network {cfg.network.host}:{cfg.network.port}"
    if cfg.connection == "file" and cfg.file is not None:
        return f"file {cfg.file.path}"
    return "simulated printer"


def close_printer(printer: Escpos) -> None:
    """Close the connection; a printer already gone is not an error at shutdown."""
    try:
        printer.close()
    except (OSError, EscposError) as exc:
        log.warning("closing the printer connection failed: %s", exc)
