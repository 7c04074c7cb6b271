"""Counter fixtures: a real kiosk ledger service, a pty number board, counter nodes on mock pins."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from gpiozero.pins.mock import MockFactory
from paho.mqtt.enums import CallbackAPIVersion

from counter.node import CounterNode
from giliran.config import SiteConfig
from hardware_sim.broker import LocalBroker
from hardware_sim.counter_board import VirtualCounterBoard

ACCOUNTS = ("kiosk", "technician", "counter-1", "counter-3")


@pytest.fixture(autouse=True)
def forget_sessions(broker: LocalBroker) -> Iterator[None]:
    """After each test, drop the persistent MQTT sessions of the accounts these tests use.

    MqttNode keeps its session for an hour (clean_start=False), so without this a
    test's node or technician would receive what was published for the previous
    test's (board states, statuses) and could match a stale message.
    """
    yield
    for node_id in ACCOUNTS:
        creds = broker.credentials(node_id)
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"giliran-{broker.site.site.id}-{node_id}",
                             protocol=paho.MQTTv5)
        client.username_pw_set(creds.username, creds.password)
        connected = threading.Event()
        client.on_connect = lambda *_, up=connected: up.set()
        client.connect("127.0.0.1", broker.port, clean_start=True)  # session expiry 0: gone on disconnect
        client.loop_start()
        try:
            assert connected.wait(5), f"could not reset the MQTT session of {node_id}"
        finally:
            client.disconnect()
            client.loop_stop()


@pytest.fixture
def board(tmp_path: Path) -> Iterator[VirtualCounterBoard]:
    with VirtualCounterBoard(tmp_path / "ttyCOUNTER") as sim:
        yield sim


@pytest.fixture
def make_node(broker: LocalBroker, clock, board: VirtualCounterBoard) -> Iterator[Callable[..., CounterNode]]:  # type: ignore[no-untyped-def]
    """``make_node(counter_id=1, ...)`` → a started counter node on its own MockFactory, the pty board, ``clock``."""
    made: list[tuple[CounterNode, MockFactory]] = []

    def make(counter_id: int = 1, *, site: SiteConfig | None = None, serial_port: str | None = None,
             start: bool = True, timeout: float = 5.0, wall: Callable[[], float] = time.time) -> CounterNode:
        factory = MockFactory()
        node = CounterNode(site or broker.site, counter_id, broker.credentials(f"counter-{counter_id}"),
                           pin_factory=factory, serial_port=serial_port or str(board.path), clock=clock,
                           wall=wall, timeout=timeout)
        made.append((node, factory))
        if start:
            node.start()
            node.wait_ready(5)
        return node

    try:
        yield make
    finally:
        for node, factory in made:
            node.close()
            factory.reset()
            factory.close()

