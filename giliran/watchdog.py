"""systemd notifications (sd_notify) and the watchdog that a node's main loop feeds.

Why: a node that hangs (a deadlock, a blocked call, a frozen pygame loop) still
looks "active" to systemd. Our units are ``Type=notify`` with ``WatchdogSec=``:
systemd waits for ``READY=1`` before it counts the node as started, and restarts
it when ``WATCHDOG=1`` stops arriving in time. The ping is sent from the node's
main loop, and only while the node's health checks hold, so a hung loop and an
unhealthy node are both restarted; ``STATUS=`` says why in ``systemctl status``.

The protocol is one datagram per message to ``$NOTIFY_SOCKET`` (a path, or an
abstract socket when it begins with ``@``): a few lines, no dependency.

Example (a node's main loop)::

    grace = ConnectionGrace(grace_s=600)
    node.mqtt.on_connection(grace.update)
    node.start()
    with systemd_service(f"counter 3 of site {site.site.id}", checks=[grace]) as watchdog:
        while not stop.wait(1.0):
            node.tick()
            watchdog.tick()
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

log = logging.getLogger(__name__)

HealthCheck = Callable[[], str | None]
"""A health check returns None when healthy, or a short reason why not."""


class Notifier:
    """Sends sd_notify messages to systemd; does nothing when not run by systemd.

    Never raises: a node must keep serving even if the notification socket
    vanishes (a failed send is logged once, then again only after a success).
    """

    def __init__(self, address: str | None) -> None:
        self.address = address or None
        self.last_status: str | None = None
        self._failing = False
        self._sock: socket.socket | None = None
        self._target = ""
        if self.address:
            # A leading '@' names a Linux abstract socket: a NUL byte on the wire.
            self._target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Notifier:
        """The notifier for ``$NOTIFY_SOCKET``, set by systemd for Type=notify units."""
        return cls(environ.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=VALUE`` fields in one datagram; True when systemd got it."""
        if self._sock is None:
            return False
        try:
            self._sock.sendto("\n".join(fields).encode("utf-8"), self._target)
        except OSError as exc:
            if not self._failing:
                log.warning("sd_notify to %s failed: %s", self.address, exc)
            self._failing = True
            return False
        self._failing = False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd the node is up (Type=notify units count as started only now)."""
        return self.send("READY=1", *self._status_field(status))

    def status(self, text: str) -> bool:
        """One line shown by ``systemctl status``."""
        return self.send(*self._status_field(text))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *self._status_field(status))

    def _status_field(self, text: str | None) -> list[str]:
        if text is None:
            return []
        self.last_status = " ".join(text.split())  # one line: a newline would start a new field
        return [f"STATUS={self.last_status}"]

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def watchdog_interval_s(environ: Mapping[str, str] = os.environ, pid: int | None = None) -> float | None:
    """Half of ``$WATCHDOG_USEC`` in seconds, or None when systemd runs no watchdog for us.

    ``$WATCHDOG_PID`` names the process that must ping: the unit's main process,
    or for the display the board itself, which giliran-cage starts under cage
    with ``WATCHDOG_PID`` set to the board's pid (the unit sets NotifyAccess=all).
    Other processes that inherit the variables (e.g. espeak-ng) are not us.
    """
    try:
        usec = int(environ.get("WATCHDOG_USEC", "0"))
    except ValueError:
        log.warning("ignoring a malformed WATCHDOG_USEC=%r", environ.get("WATCHDOG_USEC"))
        return None
    if usec <= 0:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner:
        me = os.getpid() if pid is None else pid
        if owner != str(me):
            return None
    return usec / 2_000_000


class Watchdog:
    """Pings systemd's watchdog from a node's main loop, only while every health check holds.

    ``tick()`` is called on every turn of the main loop; it pings when half of
    the watchdog period has passed since the last ping. A loop that hangs stops
    calling ``tick()``; a failing check stops the pings and says why in STATUS.
    Either way systemd restarts the node after ``WatchdogSec``.

    Example (as the tests drive it, on an injected clock)::

        watchdog = Watchdog(notifier, interval_s=15.0, checks=[grace], clock=clock)
        watchdog.tick()      # True: the first ping goes out at once
        clock.advance(10)
        watchdog.tick()      # False: not due yet
    """

    def __init__(self, notifier: Notifier, interval_s: float | None, checks: Sequence[HealthCheck] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.notifier = notifier
        self.interval_s = interval_s
        self.checks = list(checks)
        self._clock = clock
        self._due = clock()
        self._complaint: str | None = None

    @classmethod
    def from_env(cls, notifier: Notifier, checks: Sequence[HealthCheck] = (),
                 clock: Callable[[], float] = time.monotonic,
                 environ: Mapping[str, str] = os.environ) -> Watchdog:
        """A watchdog at half of systemd's ``WatchdogSec`` (off when the unit has none)."""
        interval = watchdog_interval_s(environ)
        if interval is not None:
            log.info("systemd watchdog on: pinging every %.1f s while healthy", interval)
        return cls(notifier, interval, checks, clock)

    @property
    def enabled(self) -> bool:
        return self.interval_s is not None and self.notifier.enabled

    def problem(self) -> str | None:
        """The first failing health check's reason, or None when all hold."""
        for check in self.checks:
            reason = check()
            if reason is not None:
                return reason
        return None

    def tick(self) -> bool:
        """Ping systemd if a ping is due and the node is healthy; True when a ping was sent."""
        if self.interval_s is None or not self.notifier.enabled:
            return False
        now = self._clock()
        if now < self._due:
            return False
        reason = self.problem()
        if reason is not None:
            if reason != self._complaint:
                log.error("not feeding the systemd watchdog: %s", reason)
                self.notifier.send(f"STATUS=unhealthy: {' '.join(reason.split())}")
                self._complaint = reason
            return False  # checked again on the next tick, so a recovery pings at once
        if self._complaint is not None:
            log.info("healthy again: feeding the systemd watchdog")
            self.notifier.send(f"STATUS={self.notifier.last_status or 'running'}")
            self._complaint = None
        self._due = now + self.interval_s
        return self.notifier.watchdog()


class ConnectionGrace:
    """Health check: connected to the broker, or disconnected for less than ``grace_s``.

    Why a grace: paho reconnects by itself, and restarting cannot mend a broker
    outage or a cut cable, so short outages must not restart anything. A node
    still without a connection long after (a wedged network thread, a stale
    address) is one a restart may mend. Feed it ``MqttNode.on_connection``.
    The kiosk works offline by design, so it should not use this check.
    """

    def __init__(self, grace_s: float, clock: Callable[[], float] = time.monotonic,
                 what: str = "the broker") -> None:
        self.grace_s = grace_s
        self.what = what
        self._clock = clock
        self._lock = threading.Lock()
        self._connected = False
        self._since = clock()

    def update(self, connected: bool) -> None:
        """Record a connect or disconnect (called on paho's network thread)."""
        with self._lock:
            if connected != self._connected:
                self._connected = connected
                self._since = self._clock()

    def __call__(self) -> str | None:
        with self._lock:
            if self._connected:
                return None
            away = self._clock() - self._since
        if away < self.grace_s:
            return None
        # The same text for the whole outage, so the watchdog logs it once.
        return f"no connection to {self.what} for longer than the {self.grace_s:.0f} s grace"


@contextmanager
def systemd_service(status: str, checks: Sequence[HealthCheck] = ()) -> Iterator[Watchdog]:
    """READY=1 with ``status`` on entry, STOPPING=1 on exit; yields the watchdog the loop ticks.

    Enter it once the node is started and serving: systemd starts the units
    ordered after this one only then. Outside systemd it does nothing.
    """
    notifier = Notifier.from_env()
    try:
        notifier.ready(status)
        yield Watchdog.from_env(notifier, checks)
    finally:
        notifier.stopping()
        notifier.close()
