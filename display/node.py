"""The display process: a board on the screen and, if it is its zone's PA, the announcements.

It renders from the retained ``board`` topic, so a board that starts,
restarts or reconnects is right at once with no replay; the announcer's
first-state rule keeps a restarted board from calling old numbers again.
The board says "connection lost" while the broker is unreachable, while the
kiosk's status is offline, or when the board state is older than
``STALE_S`` (the kiosk republishes it at least once a minute).

Example (the simulator does this offscreen, with a WAV recorder as the PA)::

    node = DisplayNode(site, "hall", credentials, surface, player=WavRecorder(folder, clock))
    node.start()
    present_loop(node.frame, present, node.pacer, stop)   # each tick, and at once on a new state
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pygame

from display import pa_device
from display.announcer import Announcer
from display.audio import MixerPlayer, Player
from display.board import BoardView
from display.frames import FRAME_S, FramePacer, present_loop
from display.voice_pack import load_voices
from giliran.config import SiteConfig
from giliran.errors import GiliranError, NotInSite, ProtocolError
from giliran.kiosk_time import KioskTime
from giliran.mqtt import Credentials, Incoming, MqttNode, credentials_for
from giliran.protocol import (
    BoardState,
    ErrorEvent,
    NodeStatus,
    Notice,
    TechCommand,
    TechReply,
    brief,
    decode,
    now_utc,
)
from giliran.watchdog import ConnectionGrace, systemd_service

log = logging.getLogger(__name__)

STALE_S = 150.0
BROKER_GRACE_S = 600.0
DEFAULT_VOICES = Path(os.environ.get("GILIRAN_VOICES", "/var/lib/giliran/voices"))


class DisplayNode:
    """One board: MQTT in, pixels (and, as PA, sound) out."""

    def __init__(
        self,
        site: SiteConfig,
        display_id: str,
        credentials: Credentials | None,
        surface: pygame.Surface,
        *,
        player: Player | None = None,
        voices_dir: Path = DEFAULT_VOICES,
        clock: Callable[[], float] = time.time,
        pa_retry_s: float = pa_device.RETRY_S,
        follow_screen: bool = False,
        state_dir: Path | None = None,
    ) -> None:
        """``state_dir``: where technician snapshots may go (default: systemd's $STATE_DIRECTORY,
        else the working folder)."""
        self.site = site
        self.state_dir = (state_dir or Path(os.environ.get("STATE_DIRECTORY", ".").split(":")[0])).resolve()
        self.config = site.display(display_id)
        self.node_id = f"display-{display_id}"
        self.surface = surface
        self._screen: str | None = None
        self._clock = clock
        self.view = BoardView(self.config, site, surface, clock=clock)
        #: When the next frame is due: each tick, and at once when a board state arrives.
        self.pacer = FramePacer(FRAME_S, clock)
        self.announcer: Announcer | None = None
        #: The sound device when this node opened it itself (None with an injected player).
        self.pa: pa_device.ReopeningPlayer | None = None
        #: Whether each frame takes the screen's surface as it is now (it changes on an output resize).
        self._follow_screen = follow_screen
        if self.config.pa:
            packs = load_voices(voices_dir, site.site.languages, {c.prefix for c in site.categories})
            if player is None:
                rate = packs[0].rate
                player = self.pa = pa_device.ReopeningPlayer(lambda: MixerPlayer(rate), clock, retry_s=pa_retry_s,
                                                             on_change=self._pa_changed)
            self.announcer = Announcer(packs, player, volume=self.config.volume, counters=self.config.counters,
                                       clock=clock)
        self.mqtt = MqttNode(site, self.node_id, "display", credentials)
        self._lock = threading.Lock()
        self._broker_up = False
        self._kiosk_online = True
        self._state_at: float | None = None
        #: The last board state received, as shown.
        self.state: BoardState | None = None
        self._online_shown: bool | None = None
        #: The kiosk's time, for the ``clock_offset_s`` status detail (this Pi's wall clock minus the kiosk's).
        self.kiosk_time = KioskTime()
        self._offset_shown: float | None = None
        topics = self.mqtt.topics
        self.mqtt.subscribe(topics.board, self._on_board)
        self.mqtt.subscribe(topics.notice, self._on_notice)
        self.mqtt.subscribe(topics.status("kiosk"), self._on_kiosk_status)
        self.mqtt.subscribe(topics.node_cmd(self.node_id), self._on_command)
        self.mqtt.on_connection(self._on_connection)

    def start(self) -> None:
        self.mqtt.start()
        if self.pa is not None:  # the first attempt, so status and events say at once if there is no device
            self.pa.poll()

    def close(self) -> None:
        self.mqtt.stop()
        if self.announcer is not None:
            self.announcer.close()

    # --- MQTT (network thread) --------------------------------------------------

    def _on_board(self, msg: Incoming) -> None:
        if not msg.payload:  # a cleared retained board: nothing to show until the kiosk publishes
            return
        try:
            state = decode(msg.payload, BoardState)
        except ProtocolError as exc:
            self._error("bad_payload", str(exc), msg.topic)
            return
        self.kiosk_time.observe(state.updated_at, live=not msg.retain)
        if (offset := self.kiosk_time.offset_s()) != self._offset_shown:
            self._offset_shown = offset
            self.mqtt.set_status(clock_offset_s=offset)
        self.view.update_state(state)
        with self._lock:  # after the view: a frame that sees this state draws it
            self._state_at = self._clock()
            self.state = state
        self.pacer.wake()
        if self.announcer is not None:
            self.announcer.on_board(state.calls)

    def _on_notice(self, msg: Incoming) -> None:
        if not msg.payload:  # a cleared retained message
            self.view.set_notice(None)
            return
        try:
            self.view.set_notice(decode(msg.payload, Notice))
        except ProtocolError as exc:
            self._error("bad_payload", str(exc), msg.topic)

    def _on_kiosk_status(self, msg: Incoming) -> None:
        try:
            status = decode(msg.payload, NodeStatus)
        except ProtocolError as exc:
            self._error("bad_payload", str(exc), msg.topic)
            return
        with self._lock:
            self._kiosk_online = status.state == "online"

    def _on_connection(self, up: bool) -> None:
        with self._lock:
            self._broker_up = up

    def _on_command(self, msg: Incoming) -> None:
        topics = self.mqtt.topics
        action = None
        try:
            cmd = decode(msg.payload, TechCommand)
            action = cmd.action
            message = self._command(cmd)
            reply = TechReply(ok=True, node=self.node_id, action=action, message=message)
        except ProtocolError as exc:
            self._error("bad_payload", str(exc), msg.topic)
            reply = TechReply(ok=False, node=self.node_id, action=action, message=str(exc))
        except GiliranError as exc:
            reply = TechReply(ok=False, node=self.node_id, action=action, message=str(exc))
        self.mqtt.publish(topics.node_reply(self.node_id), reply, correlation_data=msg.correlation_data)

    def _command(self, cmd: TechCommand) -> str:
        if cmd.action == "ping":
            return "pong"
        if cmd.action == "volume":
            if self.announcer is None:
                raise GiliranError(f"{self.node_id} is not a PA board")
            assert cmd.volume is not None
            self.announcer.set_volume(cmd.volume)
            self.mqtt.set_status(volume=cmd.volume)
            return f"volume {cmd.volume:.2f}"
        if cmd.action == "snapshot":
            path = snapshot_path(self.state_dir, cmd.path or f"snapshot-{self.node_id}.png")
            try:
                self.view.snapshot(path)
            except (OSError, ValueError, pygame.error) as exc:  # a technician's typo gets a reply, not silence
                raise GiliranError(brief(f"cannot save a snapshot to {str(path)!r}: {exc}")) from None
            return f"saved {path}"
        raise GiliranError(f"a display does not support {cmd.action!r}")

    def _pa_changed(self, missing: str | None) -> None:
        """The board goes on without sound; status and an event tell the technician."""
        self.mqtt.set_status(pa="ok" if missing is None else "no sound device")
        if missing is not None:
            self.mqtt.publish(self.mqtt.topics.event("error"),
                              ErrorEvent(node=self.node_id, code="no_sound_device",
                                         message=brief(f"pa: no sound device: {missing}"), at=now_utc()))

    def use_surface(self, surface: pygame.Surface) -> None:
        """Draw on the screen's surface as it is now (after an output resize); its size goes in the status."""
        w, h = surface.get_size()
        if surface is self.surface and f"{w}x{h}" == self._screen:
            return
        log.info("screen is %dx%d", w, h)
        self.surface, self._screen = surface, f"{w}x{h}"
        self.view.set_surface(surface)
        self.mqtt.set_status(screen=self._screen)

    def _error(self, code: str, message: str, topic: str) -> None:
        log.warning("%s on %s: %s", code, topic, message)
        self.mqtt.publish(self.mqtt.topics.event("error"),
                          ErrorEvent(node=self.node_id, code=code, message=message, at=now_utc(), topic=topic))

    # --- main loop ------------------------------------------------------------------

    def online(self) -> bool:
        """Whether what the board shows can be trusted as current."""
        with self._lock:
            fresh = self._state_at is not None and self._clock() - self._state_at < STALE_S
            return self._broker_up and self._kiosk_online and (fresh or self._state_at is None)

    def frame(self) -> list[pygame.Rect]:
        """One frame: connection banner, redraw what changed, advance the PA queue."""
        online = self.online()
        if online != self._online_shown:
            self.view.set_connection(online)
            self._online_shown = online
            self.mqtt.set_status(showing="live" if online else "offline banner")
        if self._follow_screen:
            screen = pygame.display.get_surface()
            if screen is not None:
                self.use_surface(screen)
        if self.pa is not None:
            self.pa.poll()
        if self.announcer is not None:
            self.announcer.tick()
        return self.view.render()


def _seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        raise GiliranError(f"{name}={os.environ[name]!r} is not a number of seconds") from None


def snapshot_path(state_dir: Path, requested: str) -> Path:
    """A technician's snapshot file: a .png in the node's state folder or below, never elsewhere.

    The command comes over the network and the board runs with write access to its
    state folder: any other path (``/etc/...``, ``../``, a symlink out) is refused, and
    no folder is created.
    """
    if "\x00" in requested:  # SDL would quietly save to the path cut at the NUL
        raise GiliranError("cannot save a snapshot: the path has a NUL character")
    try:
        path = (state_dir / requested).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise GiliranError(brief(f"cannot save a snapshot to {requested!r}: {exc}")) from None
    if state_dir not in path.parents:
        raise GiliranError(brief(f"cannot save a snapshot to {requested!r}: snapshots go under {state_dir}"))
    if path.suffix.lower() != ".png":
        raise GiliranError(brief(f"cannot save a snapshot to {requested!r}: the name must end in .png"))
    if not path.parent.is_dir():
        raise GiliranError(brief(f"cannot save a snapshot to {requested!r}: no folder {path.parent}"))
    return path


def run_display(site: SiteConfig, display_id: str, credentials_dir: Path, voices_dir: Path,
                window: bool = False) -> int:
    """Run a board until SIGTERM/SIGINT: full screen under cage/KMSDRM, a window on a desktop."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        config = site.display(display_id)
    except KeyError:
        known = ", ".join(d.id for d in site.displays)
        raise NotInSite(f"site {site.site.id} has no display {display_id!r} (displays: {known})") from None
    pa_retry_s = _seconds("GILIRAN_PA_RETRY_S", pa_device.RETRY_S)
    try:
        pygame.display.init()
        pygame.font.init()
        pygame.mouse.set_visible(False)
        # Under a Wayland compositor (cage) the window must be RESIZABLE, not FULLSCREEN: cage
        # makes every window fill the output anyway, and SDL ignores the compositor's new size
        # for a FULLSCREEN window, so after an output resize the board stayed in a corner.
        wayland = pygame.display.get_driver() == "wayland"
        flags = pygame.RESIZABLE if window or wayland else pygame.FULLSCREEN
        surface = pygame.display.set_mode(config.resolution, flags)
    except pygame.error as exc:  # e.g. "EGL not initialized", no compositor yet: one line, and systemd retries
        driver = os.environ.get("SDL_VIDEODRIVER", "SDL's default")
        raise GiliranError(f"board {display_id} cannot open its screen (video driver {driver}): {exc}") from None
    pygame.display.set_caption(f"Giliran — {display_id}")
    node = DisplayNode(site, display_id, credentials_for(site, f"display-{display_id}", credentials_dir),
                       surface, voices_dir=voices_dir, pa_retry_s=pa_retry_s, follow_screen=True)
    grace = ConnectionGrace(BROKER_GRACE_S)
    node.mqtt.on_connection(grace.update)
    node.start()
    try:
        with systemd_service(f"board {display_id} of site {site.site.id}", checks=[grace]) as watchdog:

            def each_frame() -> None:
                for event in pygame.event.get():
                    if event.type == pygame.QUIT:
                        stop.set()
                watchdog.tick()

            present_loop(node.frame, pygame.display.update, node.pacer, stop, each_frame)
    finally:
        node.close()
        pygame.quit()
    return 0
