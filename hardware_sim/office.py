"""The virtual office: a whole counter hall with no hardware.

A real Mosquitto (from broker_config/, generated accounts, a free loopback
port) and the real kiosk, counter and display node classes, each with its own
MQTT connection, on simulated hardware: gpiozero mock pins pressed by name,
the simulated ESC/POS printer, counter number boards on ptys, boards rendered
offscreen, the PA written to WAV.

The nodes run as threads of this process, not as separate processes: they
share one injectable clock (a scenario runs a day in seconds) and the tester
can reach their simulated hardware directly. Each node is the same class the
``giliran kiosk|counter-node|display`` processes run; those add only signal
handling and the main loop (``tick`` / ``frame``), which the office calls.

Example::

    with VirtualOffice(site, tmp_path, clock=clock) as office:
        office.press("A")                      # the MyKad button
        office.counter(3).press("next")        # -> CounterReply, A001
        office.printer.tickets()[-1]           # what the customer holds
        office.board("hall").snapshot(path)    # PNG
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pygame
from gpiozero.pins.mock import MockFactory

from counter.node import CounterNode
from display.audio import WavRecorder
from display.node import DisplayNode
from giliran.config import SiteConfig
from giliran.errors import GiliranError
from hardware_sim.broker import LocalBroker
from hardware_sim.counter_board import VirtualCounterBoard
from hardware_sim.printer import SimulatedPrinter
from kiosk.node import KioskNode

log = logging.getLogger(__name__)


class SimClock:
    """A clock the simulator sets: epoch seconds, starting at ``start``; real time does not move it."""

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def set(self, t: float) -> None:
        if t < self.t:
            raise ValueError("the simulated clock never runs backwards")
        self.t = t

    def advance(self, seconds: float) -> None:
        self.set(self.t + seconds)


class VirtualOffice:
    """Broker, kiosk, counters and boards of one site, on simulated hardware."""

    def __init__(
        self,
        site: SiteConfig,
        workdir: Path,
        *,
        clock: Callable[[], float] = time.time,
        voices_dir: Path | None = None,
        boards: bool = True,
    ) -> None:
        self.workdir = workdir
        self.clock = clock
        self._voices_dir = voices_dir
        self._with_boards = boards
        self.broker = LocalBroker(site, workdir / "broker")
        self.site = self.broker.site
        self.kiosk_pins = MockFactory()
        self.printer = SimulatedPrinter(self.site.printer.profile, paper_mm=self.site.printer.paper_mm)
        self.kiosk: KioskNode | None = None
        self.counters: dict[int, CounterNode] = {}
        self.counter_boards: dict[int, VirtualCounterBoard] = {}
        self.boards: dict[str, DisplayNode] = {}
        self._counter_pins: list[MockFactory] = []

    # --- lifecycle --------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        self.broker.start()
        self.start_kiosk()
        for counter in self.site.counters:
            board = VirtualCounterBoard(self.workdir / f"ttyCOUNTER{counter.id}")
            self.counter_boards[counter.id] = board
            pins = MockFactory()
            self._counter_pins.append(pins)
            node = CounterNode(self.site, counter.id, self.broker.credentials(f"counter-{counter.id}"),
                               pin_factory=pins, serial_port=str(board.path), clock=self.clock)
            node.start()
            self.counters[counter.id] = node
        if self._with_boards:
            pygame.display.init()
            pygame.font.init()
            for display in self.site.displays:
                self.boards[display.id] = self._start_board(display.id)
        for node in self.counters.values():
            node.wait_ready(timeout)
        for board_node in self.boards.values():
            board_node.mqtt.wait_connected(timeout)

    def start_kiosk(self) -> KioskNode:
        """Start (or, after kill_kiosk, restart) the kiosk on the same ledger, pins and printer."""
        self.kiosk = KioskNode(self.site, self.broker.credentials("kiosk"), pin_factory=self.kiosk_pins,
                               printer=self.printer, clock=self.clock, monotonic=self.clock,
                               ledger_path=self.workdir / "ledger.sqlite")
        self.kiosk.start()
        self.kiosk.mqtt.wait_connected(10)
        return self.kiosk

    def stop_kiosk(self) -> None:
        """Stop the kiosk node (its pins and printer stay, as on a Pi whose process restarts)."""
        if self.kiosk is not None:
            self.kiosk.close()
            self.kiosk = None

    def _start_board(self, display_id: str) -> DisplayNode:
        display = self.site.display(display_id)
        player = WavRecorder(self.workdir / "announcements" / display_id, self.clock) if display.pa else None
        if display.pa and self._voices_dir is None:
            raise GiliranError(f"display {display_id} is a PA: the office needs voices_dir")
        node = DisplayNode(self.site, display_id, self.broker.credentials(f"display-{display_id}"),
                           pygame.Surface(display.resolution), player=player,
                           voices_dir=self._voices_dir or Path(), clock=self.clock)
        node.start()
        return node

    def stop(self) -> None:
        for board_node in self.boards.values():
            board_node.close()
        for node in self.counters.values():
            node.close()
        for board in self.counter_boards.values():
            board.close()
        for pins in self._counter_pins:
            pins.close()
        self.stop_kiosk()
        self.kiosk_pins.close()
        self.broker.stop()

    def __enter__(self) -> VirtualOffice:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the tester's hands and eyes ---------------------------------------------------

    def press(self, category: str) -> None:
        """Press the kiosk button of a category, by id ("mykad") or prefix letter ("A")."""
        cat = next((c for c in self.site.categories if category in (c.id, c.prefix)), None)
        if cat is None or cat.button_pin is None:
            raise GiliranError(f"no kiosk button for {category!r}")
        pin = self.kiosk_pins.pin(cat.button_pin)
        pin.drive_low()
        pin.drive_high()

    def counter(self, counter_id: int) -> CounterNode:
        return self.counters[counter_id]

    def board(self, display_id: str) -> DisplayNode:
        return self.boards[display_id]

    def frame(self) -> None:
        """One main-loop step of every node: lamps, printer poll, boards and PA."""
        if self.kiosk is not None:
            self.kiosk.tick()
        for board_node in self.boards.values():
            board_node.frame()

    def settle(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Run frames until ``predicate()`` holds (MQTT is asynchronous); GiliranError on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.frame()
            if predicate():
                return
            time.sleep(0.01)
        raise GiliranError(f"the office did not settle within {timeout} s")
