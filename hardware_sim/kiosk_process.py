"""The real kiosk in a process of its own, pressed over stdin: for kill -9 tests and for people.

The virtual office runs its nodes as threads, so it cannot SIGKILL one. This
runs the real :class:`~kiosk.node.KioskNode` (mock pins, the simulated printer,
a broker and a ledger file you name) as a separate process that a test, or a
person at a terminal, drives one line at a time:

=================  =========================================================
stdin              what the kiosk does
=================  =========================================================
``press mykad``    a customer presses that category's button (id or prefix)
end of input       the kiosk stops cleanly and the process exits 0
=================  =========================================================

=============================  ==============================================
stdout                         meaning
=============================  ==============================================
``READY``                      started and connected to the broker
``ISSUED A012``                printed *and* confirmed in the ledger (after its commit)
``REFUSED mykad paper_out``    no ticket: closed, quota_full, a printer fault, ignored
``ERROR <message>``            a line it did not understand
=============================  ==============================================

Logs go to stderr. Between lines the process runs the kiosk's main loop
(``tick`` every second), as ``giliran kiosk`` does.

Presses come much faster than a hall's customers, so the press filter's clock
(the node's ``monotonic``) jumps ``cooldown_s + 1`` seconds at each press: the
previous customer has walked away. The ledger's clock is the real clock plus
``--clock-offset`` (a test day at 09:00); a restarted process given the same
offset carries on the same day, never going back in time.

Example (what tests/faults/ does)::

    kiosk = KioskProcess(KioskProcess.command_for(site_file, ledger, port=broker.port,
                                                  credentials=broker.files.credentials_dir))
    kiosk.start()
    kiosk.wait_ready(10)
    kiosk.press("mykad")      # 'ISSUED A001'
    kiosk.kill()              # SIGKILL; start() again on the same ledger

Or by hand: ``python -m hardware_sim.kiosk_process --site examples/site.toml
--ledger /tmp/ledger.sqlite --broker-port 1883 --credentials /tmp/broker/credentials``.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import msgspec
from gpiozero.pins.mock import MockFactory

from giliran.config import SiteConfig, load_site
from giliran.mqtt import credentials_for
from hardware_sim.printer import SimulatedPrinter
from kiosk.node import TICK_S, KioskNode

log = logging.getLogger(__name__)

READY = "READY"
ISSUED = "ISSUED"
REFUSED = "REFUSED"
ERROR = "ERROR"


class CustomerClock:
    """``base()`` (``time.monotonic()``) plus the time every customer so far took to walk away.

    Benchmarks press far faster than people: this lets each press pass the
    press guard's cool-down without waiting it out.
    """

    def __init__(self, step_s: float, base: Callable[[], float] = time.monotonic) -> None:
        self.step_s = step_s
        self._base = base
        self._skew = 0.0

    def __call__(self) -> float:
        return self._base() + self._skew

    def next_customer(self) -> None:
        self._skew += self.step_s


# --- the child: the kiosk itself ---------------------------------------------------------


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _site(args: argparse.Namespace) -> SiteConfig:
    site = load_site(args.site)
    if args.broker_port is not None:
        broker = msgspec.structs.replace(site.broker, host="127.0.0.1", port=args.broker_port, tls=False)
        site = msgspec.structs.replace(site, broker=broker)
    return site


def _press(node: KioskNode, pins: MockFactory, clock: CustomerClock, name: str) -> str:
    site = node.ledger.site
    cat = next((c for c in site.categories if name in (c.id, c.prefix)), None)
    if cat is None or cat.button_pin is None:
        return f"{ERROR} no kiosk button for {name!r}"
    clock.next_customer()
    before = node.issuer.last_ticket
    pin = pins.pin(cat.button_pin)
    pin.drive_low()  # with mock pins the press is handled in this thread, ticket printed and confirmed
    pin.drive_high()
    ticket = node.issuer.last_ticket
    if ticket is not None and ticket is not before:
        return f"{ISSUED} {ticket.number}"
    reason = node.issuer.fault or node.ledger.availability(cat.id) or "ignored"
    return f"{REFUSED} {cat.id} {reason}"


def run(args: argparse.Namespace) -> int:
    site = _site(args)
    offset = args.clock_offset
    clock = CustomerClock(site.kiosk.cooldown_s + 1.0)
    pins = MockFactory()
    printer = SimulatedPrinter(site.printer.profile, paper_mm=site.printer.paper_mm, timeout_s=site.printer.timeout_s)
    printer.slow_s = args.printer_slow_s
    node = KioskNode(site, credentials_for(site, "kiosk", args.credentials), pin_factory=pins, printer=printer,
                     clock=lambda: time.time() + offset, monotonic=clock, ledger_path=args.ledger)
    lines: queue.Queue[str | None] = queue.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
    try:
        node.start()
        node.mqtt.wait_connected(args.connect_timeout)
        _emit(READY)
        next_tick = time.monotonic() + TICK_S
        while True:
            try:
                line = lines.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                node.tick()
                next_tick = time.monotonic() + TICK_S
                continue
            if line is None:
                return 0
            words = line.split()
            if len(words) == 2 and words[0] == "press":
                _emit(_press(node, pins, clock, words[1]))
            elif words:
                _emit(f"{ERROR} unknown command {line.strip()!r}; try 'press <category>'")
    finally:
        node.close()
        pins.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware_sim.kiosk_process", description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="the site file")
    parser.add_argument("--ledger", type=Path, required=True, help="the ledger file (kept across restarts)")
    parser.add_argument("--broker-port", type=int, help="a broker on 127.0.0.1 at this port (default: the site's)")
    parser.add_argument("--credentials", type=Path, help="folder with kiosk.toml (default: the site's)")
    parser.add_argument("--clock-offset", type=float, default=0.0, help="seconds added to the ledger's clock")
    parser.add_argument("--printer-slow-s", type=float, default=0.0, help="seconds each write to the printer takes")
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"kiosk[{os.getpid()}] %(levelname)s %(name)s: %(message)s")
    return run(args)


# --- the parent: start, press, kill ------------------------------------------------------------


class KioskProcess:
    """A kiosk child process and the parent's side of its line protocol.

    Not thread-safe: one thread presses. ``issued`` keeps every number any
    ``ISSUED`` line reported, across restarts of the same object.
    """

    def __init__(self, command: list[str], *, stderr: Path | None = None) -> None:
        self.command = command
        self.stderr_path = stderr
        self.issued: list[str] = []
        self.starts = 0
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._ready = False

    @staticmethod
    def command_for(site_file: Path, ledger: Path, *, port: int | None = None, credentials: Path | None = None,
                    clock_offset: float = 0.0, printer_slow_s: float = 0.0) -> list[str]:
        cmd = [sys.executable, "-m", "hardware_sim.kiosk_process", "--site", str(site_file), "--ledger", str(ledger),
               "--clock-offset", repr(clock_offset), "--printer-slow-s", repr(printer_slow_s)]
        if port is not None:
            cmd += ["--broker-port", str(port)]
        if credentials is not None:
            cmd += ["--credentials", str(credentials)]
        return cmd

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.alive:
            raise RuntimeError("the kiosk process is already running")
        err: IO[str] | int = subprocess.DEVNULL
        if self.stderr_path is not None:
            err = self.stderr_path.open("a", encoding="utf-8")
        try:
            self._proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                          text=True, bufsize=1)
        finally:
            if not isinstance(err, int):
                err.close()  # the child has its own copy
        self.starts += 1
        self._ready = False
        self._lines = queue.Queue()
        stdout = self._proc.stdout
        assert stdout is not None
        self._reader = threading.Thread(target=self._read, args=(stdout, self._lines), daemon=True,
                                        name="kiosk-stdout")
        self._reader.start()

    @staticmethod
    def _read(stdout: IO[str], lines: queue.Queue[str | None]) -> None:
        for line in stdout:
            if line.endswith("\n"):  # a line cut short by a kill is not a report
                lines.put(line.strip())
        lines.put(None)

    def _next(self, timeout: float) -> str | None:
        """The next whole line; None at end of output or after ``timeout``."""
        try:
            line = self._lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if line is None:
            self._lines.put(None)  # stay at the end
            return None
        if line.startswith(ISSUED + " "):
            self.issued.append(line.split()[1])
        return line

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._ready:
            line = self._next(deadline - time.monotonic())
            if line is None:
                return False
            self._ready = line == READY
        return True

    def press(self, category: str, timeout: float = 5.0) -> str | None:
        """Press a button; the kiosk's answer line, or None if it died (or said nothing) first."""
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise RuntimeError("the kiosk process is not running")
        try:
            proc.stdin.write(f"press {category}\n")
            proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return None
        deadline = time.monotonic() + timeout
        while True:
            line = self._next(deadline - time.monotonic())
            if line is None or line.split()[0] in (ISSUED, REFUSED, ERROR):
                return line

    def kill(self) -> int | None:
        """SIGKILL: no cleanup, no last publish; the broker sends the kiosk's will.

        Returns the exit status: ``-SIGKILL`` if the kiosk was still running, its own exit code if it had
        already stopped by itself, None if it was never started.
        """
        if self._proc is None:
            return None
        self._proc.kill()
        return self._finish(10)

    def stop(self, timeout: float = 10.0) -> int:
        """End of input: the kiosk closes cleanly. Returns the exit code."""
        if self._proc is None:
            raise RuntimeError("the kiosk process is not running")
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
        return self._finish(timeout)

    def _finish(self, timeout: float) -> int:
        assert self._proc is not None
        proc, self._proc = self._proc, None
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(5)
        if self._reader is not None:
            self._reader.join(timeout)  # the pipe ends with the process
        while self._next(0.0) is not None:  # collect ISSUED lines still in the pipe
            pass
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
        return code


if __name__ == "__main__":
    sys.exit(main())
