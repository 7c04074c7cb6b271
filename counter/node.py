"""The counter process: counter N's keypad, satisfaction buttons and number board, over MQTT as ``counter-N``.

It holds no queue state of its own: every key becomes a command to the
kiosk's ledger, and the number board shows the reply. It also follows the
retained board state, so the number board is right after a restart and when
someone acts for this counter from the command line.

Retained status (``status/counter-N``) details: ``display`` (ok / error / none),
``display_error``, ``shows`` (the board's number field), ``counter_state``,
``last_action``, ``last_result``, ``commands``, ``presses_ignored`` (repeat
guard), ``presses_refused`` (busy or offline), ``clock_offset_s`` (this Pi's
wall clock minus the kiosk's; see giliran.kiosk_time). A number board fault is also an
``event/error`` with code ``display_fault``, a board state that fails validation
one with code ``bad_payload``. Technicians can ``ping`` it on
``node/counter-N/cmd``.

Example (the simulator: mock pins and a pty number board)::

    node = CounterNode(site, 3, creds, pin_factory=MockFactory(), serial_port=board.path, clock=scenario_clock)
    node.start()
    node.wait_ready(5)
    node.press("next").ticket.number      # 'A001'; the board received b'A001  3\\r\\n'
    node.close()
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
from gpiozero.pins import Factory

from counter.commands import CounterClient
from counter.desk import CounterDesk
from counter.keypad import Keypad
from counter.screen import Screen
from counter.serial_display import LineDisplay, LineFormat, NoDisplay, SerialLineDisplay
from giliran.config import Counter, SerialDisplay, SiteConfig
from giliran.errors import GiliranError, NotInSite, ProtocolError
from giliran.gpio import make_pin_factory
from giliran.kiosk_time import KioskTime
from giliran.mqtt import Credentials, Incoming, MqttNode, credentials_for
from giliran.press_guard import KeyGuard
from giliran.protocol import BoardState, CounterReply, ErrorEvent, StatusValue, TechCommand, TechReply, decode, now_utc
from giliran.watchdog import ConnectionGrace, systemd_service

log = logging.getLogger(__name__)

TICK_S = 1.0
BROKER_GRACE_S = 600.0
DEBOUNCE_S = 0.05
REPEAT_S = 1.0


def counter_of(site: SiteConfig, counter_id: int) -> Counter:
    try:
        return site.counter(counter_id)
    except KeyError:
        known = ", ".join(str(c.id) for c in site.counters)
        raise NotInSite(f"site {site.site.id} has no counter {counter_id} (counters: {known})") from None


class CounterNode:
    """Everything one counter runs, wired together; ``tick()`` is its main-loop step.

    ``clock`` (monotonic seconds) drives debounce, the repeat guard, the
    transfer window, notices and display retries: the simulator passes its
    scenario clock. ``serial_port`` overrides the site file's
    ``serial_display.port`` (a pty in the simulator).
    """

    def __init__(
        self,
        site: SiteConfig,
        counter_id: int,
        credentials: Credentials | None,
        *,
        pin_factory: Factory,
        serial_port: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        timeout: float = 5.0,
    ) -> None:
        self.counter = counter_of(site, counter_id)
        self.site = site
        self.node_id = f"counter-{counter_id}"
        self.pin_factory = pin_factory
        self.mqtt = MqttNode(site, self.node_id, "counter", credentials)
        self.kiosk_time = KioskTime(wall, clock)
        self.client = CounterClient(site, counter_id, None, timeout=timeout, node=self.mqtt,
                                    kiosk_time=self.kiosk_time)
        self._status_lock = threading.Lock()
        self._published: dict[str, StatusValue] = {}
        self._reported_fault: str | None = None
        self.display = self._make_display(serial_port, clock)
        self.screen = Screen(self.display, clock)
        self.guard = KeyGuard(DEBOUNCE_S, REPEAT_S, clock, free_keys=("transfer",))
        self.desk = CounterDesk(site, self.counter, self.client, self.screen, clock,
                                connected=lambda: self.mqtt.connected, on_change=self.publish_status)
        try:
            self.keypad = Keypad(self.counter, pin_factory, self.guard, self.desk.key)
        except Exception:  # e.g. a pin in use: release what was opened
            self.desk.close()
            self.display.close()
            raise
        self.mqtt.subscribe(self.mqtt.topics.board, self._on_board)
        self.mqtt.subscribe(self.mqtt.topics.node_cmd(self.node_id), self._on_tech)

    def _make_display(self, serial_port: str | None, clock: Callable[[], float]) -> LineDisplay:
        cfg = self.counter.serial_display
        if serial_port is not None:
            cfg = msgspec.structs.replace(cfg, port=serial_port) if cfg else SerialDisplay(port=serial_port)
        if cfg is None:
            return NoDisplay()
        name = self.counter.name[self.site.site.languages[0]]
        return SerialLineDisplay(cfg.port, cfg.baudrate, LineFormat(cfg.template, self.counter.id, name), clock)

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Show the starting line and connect in the background."""
        self.screen.start()
        self.publish_status()
        self.mqtt.start()

    def wait_ready(self, timeout: float) -> None:
        """Block until connected and the counter's state is known (from the board state or a reply)."""
        self.mqtt.wait_connected(timeout)
        if not self.screen.known.wait(timeout):
            raise GiliranError(f"{self.node_id}: no board state from the kiosk within {timeout} s")

    def tick(self) -> None:
        """One main-loop step: notices expire, a missing number board is retried, status follows."""
        self.screen.tick()
        self.publish_status()

    def close(self) -> None:
        """Stop taking presses, finish the command in flight, clear the board, go offline."""
        self.keypad.close()
        self.desk.close()
        self.screen.blank()
        self.display.close()
        self.mqtt.stop()

    # --- the simulator's finger ------------------------------------------------------

    def press(self, key: str, timeout: float = 10.0) -> CounterReply | None:
        """Press and release ``key`` on mock pins; return the kiosk's reply to the command it sent.

        None when the press sent nothing: dropped by the guard, refused (busy,
        offline), a Transfer step, or a command that got no reply.
        """
        before = self.desk.last_job
        self.keypad.press(key)
        job = self.desk.last_job
        return job.result(timeout) if job is not None and job is not before else None

    # --- status -------------------------------------------------------------------------

    def status_details(self) -> dict[str, StatusValue]:
        stats = self.desk.stats
        error = self.display.error
        return {
            "counter": self.counter.id,
            "display": "none" if isinstance(self.display, NoDisplay) else ("error" if error else "ok"),
            "display_error": error,
            "shows": self.screen.line.number,
            "counter_state": self.screen.state,
            "last_action": stats.last_action,
            "last_result": stats.last_result,
            "commands": stats.commands,
            "presses_ignored": self.guard.ignored,
            "presses_refused": stats.refused,
            "clock_offset_s": self.kiosk_time.offset_s(),
        }

    def publish_status(self) -> None:
        """Republish the status when a detail changed; report a number board fault once, as an event.

        Details set while offline are kept by MqttNode and published on connect.
        """
        details = self.status_details()
        fault = self.display.error
        with self._status_lock:
            changed = details != self._published
            self._published = details
            report = fault is not None and fault != self._reported_fault and self.mqtt.connected
            if report or fault is None:
                self._reported_fault = fault
        if changed:
            self.mqtt.set_status(**details)
        if report and fault is not None:
            self.mqtt.publish(self.mqtt.topics.event("error"),
                              ErrorEvent(node=self.node_id, code="display_fault", message=fault, at=now_utc()))

    # --- MQTT handlers (network thread) ----------------------------------------------------

    def _on_board(self, msg: Incoming) -> None:
        if not msg.payload:
            return  # the retained board state was cleared
        try:
            state = decode(msg.payload, BoardState)
        except ProtocolError as exc:  # reported like every node's bad input, so technicians see it
            log.warning("%s: ignored a board state: %s", self.node_id, exc)
            self.mqtt.publish(self.mqtt.topics.event("error"), ErrorEvent(
                node=self.node_id, code="bad_payload", message=str(exc), at=now_utc(), topic=msg.topic))
            return
        self.kiosk_time.observe(state.updated_at, live=not msg.retain)
        row = next((c for c in state.counters if c.id == self.counter.id), None)
        if row is None:
            log.warning("%s: the board state has no counter %d", self.node_id, self.counter.id)
            return
        self.screen.follow(row.state, row.serving)

    def _on_tech(self, msg: Incoming) -> None:
        topics = self.mqtt.topics
        action: str | None = None
        try:
            cmd = decode(msg.payload, TechCommand)
            action = cmd.action
            if cmd.action != "ping":
                raise GiliranError(f"a counter node supports only 'ping', not {cmd.action!r}")
            line = self.screen.line
            reply = TechReply(ok=True, node=self.node_id, action=action,
                              message=f"pong: counter {self.counter.id} {self.screen.state or 'unknown'},"
                                      f" board shows {line.number or 'nothing'!r},"
                                      f" display {self.display.error or 'ok'}")
        except ProtocolError as exc:
            self.mqtt.publish(topics.event("error"), ErrorEvent(node=self.node_id, code="bad_payload",
                                                                message=str(exc), at=now_utc(), topic=msg.topic))
            reply = TechReply(ok=False, node=self.node_id, action=action, message=str(exc))
        except GiliranError as exc:
            reply = TechReply(ok=False, node=self.node_id, action=action, message=str(exc))
        self.mqtt.publish(topics.node_reply(self.node_id), reply, correlation_data=msg.correlation_data)


def run_counter_node(site: SiteConfig, credentials_dir: Path, counter_id: int, pin_factory: Factory | None = None,
                     serial_port_override: str | None = None, stop_event: threading.Event | None = None) -> int:
    """Run counter N until ``stop_event`` is set, or until SIGTERM/SIGINT when none is given."""
    counter_of(site, counter_id)  # a clear message before looking for its credentials
    stop = stop_event or threading.Event()
    if stop_event is None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    credentials = credentials_for(site, f"counter-{counter_id}", credentials_dir)
    factory = pin_factory or make_pin_factory(site.kiosk.pin_factory)
    try:
        node = CounterNode(site, counter_id, credentials, pin_factory=factory, serial_port=serial_port_override)
        grace = ConnectionGrace(BROKER_GRACE_S)
        node.mqtt.on_connection(grace.update)
        node.start()
        log.info("counter %d of site %s running", counter_id, site.site.id)
        try:
            with systemd_service(f"counter {counter_id} of site {site.site.id}", checks=[grace]) as watchdog:
                while not stop.wait(TICK_S):
                    node.tick()
                    watchdog.tick()
        finally:
            node.close()
    finally:
        if pin_factory is None:
            factory.close()
    return 0
