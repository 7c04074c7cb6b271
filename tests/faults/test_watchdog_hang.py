"""A node whose main loop hangs stops feeding systemd's watchdog, so systemd restarts it.

tests/deploy/test_watchdog.py tests the Watchdog class on a loop of its own.
This runs the real counter node main loop (``run_counter_node``, as
``giliran counter-node`` runs it) in a thread, with ``$NOTIFY_SOCKET`` bound
here, and blocks the loop the way a deadlock would: by holding the lock its
``tick`` needs (the counter screen's). The pings must stop while it is held,
even though the node's MQTT thread is alive and connected, and start again
when it is released. The counter is used because ``run_counter_node`` takes a
stop event (``run_kiosk`` and ``run_display`` install signal handlers, which
only the main thread may do); all three share the same loop shape.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

import counter.node
from counter.node import CounterNode, run_counter_node
from hardware_sim.broker import LocalBroker

WATCHDOG_USEC = 100_000  # a ping due every 50 ms


def receive(sock: socket.socket, timeout: float) -> str | None:
    sock.settimeout(timeout)
    try:
        return sock.recv(4096).decode()
    except (TimeoutError, BlockingIOError):
        return None


def pings_within(sock: socket.socket, seconds: float) -> int:
    """How many WATCHDOG=1 datagrams arrive in the next ``seconds``."""
    count, deadline = 0, time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        message = receive(sock, left)
        count += message is not None and "WATCHDOG=1" in message
    return count


@pytest.mark.faults
def test_a_hung_counter_main_loop_stops_its_watchdog_pings(broker: LocalBroker, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counter.node, "TICK_S", 0.02)  # the loop turns fast, so the test is short
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    made: list[CounterNode] = []
    real_init = CounterNode.__init__

    def keep(self: CounterNode, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(CounterNode, "__init__", keep)
    pins = MockFactory()
    stop = threading.Event()
    loop = threading.Thread(target=run_counter_node, args=(broker.site, broker.files.credentials_dir, 2),
                            kwargs={"pin_factory": pins, "stop_event": stop}, daemon=True)
    loop.start()
    try:
        ready = receive(notify, 10)
        assert ready is not None and "READY=1" in ready
        node = made[0]
        node.mqtt.wait_connected(10)
        running = pings_within(notify, 0.5)
        assert running >= 3, "a healthy loop pings"

        with node.screen._lock:  # the lock tick() needs, held as a deadlock would hold it
            time.sleep(0.1)  # at most the ping of the turn already past the lock goes out
            while receive(notify, 0.0) is not None:
                pass
            hung = pings_within(notify, 1.0)
            assert node.mqtt.connected, "the node is still connected: only its main loop is stuck"
        resumed = pings_within(notify, 0.5)
        print(f"\nhung counter loop: pings in 0.5 s running={running}, in 1.0 s hung={hung}, "
              f"in 0.5 s after={resumed}")
        assert hung == 0, "a hung main loop must not feed the watchdog"
        assert resumed >= 3, "pings resume when the loop runs again"
    finally:
        stop.set()
        loop.join(10)
        pins.close()
        notify.close()
    assert not loop.is_alive()
