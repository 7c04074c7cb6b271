"""sd_notify and the watchdog, against a real datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from giliran.watchdog import ConnectionGrace, Notifier, Watchdog, systemd_service, watchdog_interval_s

pytestmark = pytest.mark.deploy


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FakeSystemd:
    """The receiving end of $NOTIFY_SOCKET: a bound datagram socket that collects messages."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)

    def receive(self, timeout: float = 2.0) -> str | None:
        """The next message, or None when none arrives within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except (TimeoutError, BlockingIOError):
            return None

    def drain(self) -> list[str]:
        out = []
        while (msg := self.receive(0.0 if out else 0.05)) is not None:
            out.append(msg)
        return out

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[FakeSystemd]:
    fake = FakeSystemd(str(tmp_path / "notify"))
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def notifier(systemd: FakeSystemd) -> Iterator[Notifier]:
    with Notifier.from_env({"NOTIFY_SOCKET": systemd.address}) as n:
        yield n


def test_ready_status_and_stopping_arrive_as_datagrams(systemd: FakeSystemd, notifier: Notifier) -> None:
    assert notifier.ready("kiosk for site\njpn-putrajaya")
    assert systemd.receive() == "READY=1\nSTATUS=kiosk for site jpn-putrajaya"
    assert notifier.status("printer: paper low")
    assert systemd.receive() == "STATUS=printer: paper low"
    assert notifier.stopping()
    assert systemd.receive() == "STOPPING=1"


def test_abstract_socket_address() -> None:
    address = f"@giliran-test-{os.getpid()}-{time.monotonic_ns()}"
    fake = FakeSystemd(address)
    try:
        with Notifier(address) as n:
            assert n.watchdog()
        assert fake.receive() == "WATCHDOG=1"
    finally:
        fake.close()


def test_without_systemd_nothing_is_sent_and_nothing_fails() -> None:
    n = Notifier.from_env({})
    assert not n.enabled
    assert not n.ready("x")
    wd = Watchdog(n, 15.0)
    assert not wd.enabled and not wd.tick()


def test_a_vanished_socket_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Notifier(str(tmp_path / "gone")) as n:
        assert not n.watchdog()
        assert not n.watchdog()
    assert len([r for r in caplog.records if "sd_notify" in r.getMessage()]) == 1


@pytest.mark.parametrize(("environ", "expected"), [
    ({"WATCHDOG_USEC": "30000000"}, 15.0),
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "100"}, 15.0),   # we are the main process
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "99"}, None),    # our parent's (e.g. cage's)
    ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"}, None),     # someone else's watchdog
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({}, None),
])
def test_watchdog_interval_is_half_of_watchdog_usec(environ: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval_s(environ, pid=100) == expected


def test_pings_at_half_the_period_while_healthy(systemd: FakeSystemd, notifier: Notifier) -> None:
    clock = Clock()
    wd = Watchdog.from_env(notifier, clock=clock, environ={"WATCHDOG_USEC": "30000000"})
    assert wd.interval_s == 15.0
    sent = []
    for _ in range(60):            # one minute of a loop ticking every second
        sent.append(wd.tick())
        clock.advance(1.0)
    assert sent.count(True) == 4   # at 0, 15, 30 and 45 s
    assert systemd.drain() == ["WATCHDOG=1"] * 4


def test_an_unhealthy_node_stops_pinging_and_says_why(systemd: FakeSystemd, notifier: Notifier) -> None:
    clock = Clock()
    grace = ConnectionGrace(grace_s=60, clock=clock)
    wd = Watchdog(notifier, 15.0, checks=[grace], clock=clock)
    notifier.ready("counter 3")
    grace.update(True)
    assert wd.tick()
    grace.update(False)                       # broker gone: within the grace, still healthy
    clock.advance(30)
    assert wd.tick()
    clock.advance(30)                         # 60 s away: past the grace
    assert not wd.tick()
    clock.advance(15)
    assert not wd.tick()
    assert systemd.drain() == ["READY=1\nSTATUS=counter 3", "WATCHDOG=1", "WATCHDOG=1",
                               "STATUS=unhealthy: no connection to the broker for longer than the 60 s grace"]
    grace.update(True)                        # back: pings at once, and the old status returns
    assert wd.tick()
    assert systemd.drain() == ["STATUS=counter 3", "WATCHDOG=1"]


def test_connection_grace_counts_from_start_until_the_first_connect() -> None:
    clock = Clock()
    grace = ConnectionGrace(grace_s=10, clock=clock, what="broker 10.0.0.2:1883")
    clock.advance(9)
    assert grace() is None
    clock.advance(1)
    assert grace() == "no connection to broker 10.0.0.2:1883 for longer than the 10 s grace"


def test_a_hung_main_loop_stops_the_pings(systemd: FakeSystemd, notifier: Notifier) -> None:
    """A real loop thread on the real clock: pings while it runs, none while it is stuck, again after."""
    wd = Watchdog(notifier, interval_s=0.05)
    stop, unblock = threading.Event(), threading.Event()
    hang = threading.Event()

    def main_loop() -> None:
        while not stop.wait(0.01):
            if hang.is_set():
                unblock.wait(10)       # a call that blocks, as a deadlock would
            wd.tick()

    thread = threading.Thread(target=main_loop, daemon=True)
    thread.start()
    try:
        assert systemd.receive() == "WATCHDOG=1"
        assert systemd.receive() == "WATCHDOG=1"
        hang.set()
        systemd.drain()                         # at most the ping already on its way
        assert systemd.receive(timeout=0.5) is None, "a hung loop must not feed the watchdog"
        hang.clear()
        unblock.set()
        assert systemd.receive() == "WATCHDOG=1"
    finally:
        stop.set()
        unblock.set()
        thread.join(5)


def test_systemd_service_wraps_a_main_loop(systemd: FakeSystemd, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", systemd.address)
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    with systemd_service("display hall of site jpn-putrajaya") as watchdog:
        assert watchdog.interval_s == 15.0
        assert watchdog.tick()
    assert systemd.drain() == ["READY=1\nSTATUS=display hall of site jpn-putrajaya", "WATCHDOG=1", "STOPPING=1"]
