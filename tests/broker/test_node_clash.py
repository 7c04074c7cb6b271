"""Two Pis started as the same node: reported to technicians, and they stop throwing each other off every second.

The broker allows one connection per client id: the second drops the first.
paho reconnects after a second, which drops the other, and so on forever;
nothing said why (9 of 28 key presses got through).
"""

from __future__ import annotations

import threading
import time

from giliran.mqtt import MqttNode
from giliran.protocol import ErrorEvent, NodeStatus, decode

BACKOFF_S = 3  # the first wait after a clash here; 30 s on a real node, doubling each time


def test_two_nodes_with_one_id_report_the_clash_and_back_off(broker, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    tech = connect("technician", "technician")
    errors, statuses = recorder(), recorder()
    tech.subscribe(tech.topics.event("error"), errors)
    tech.subscribe(tech.topics.status("counter-3"), statuses)
    connects: list[float] = []
    changed = threading.Condition()

    def connected(up: bool) -> None:
        if up:
            with changed:
                connects.append(time.monotonic())
                changed.notify_all()

    twins = [MqttNode(broker.site, "counter-3", "counter", broker.credentials("counter-3"),
                      takeover_backoff_s=BACKOFF_S) for _ in range(2)]
    for twin in twins:
        twin.on_connection(connected)
    twins[0].start()
    twins[0].wait_connected(5)
    twins[1].start()
    try:
        found = errors.wait_for(lambda m: decode(m.payload, ErrorEvent).code == "duplicate_node", timeout=15)
        event = decode(found.payload, ErrorEvent)
        assert event.node == "counter-3" and "are two Pis set up as node counter-3?" in event.message
        statuses.wait_for(lambda m: "clash" in decode(m.payload, NodeStatus).details)

        def backed_off() -> bool:  # flapping reconnects every second; a backed-off twin stays away BACKOFF_S
            gaps = [b - a for a, b in zip(connects, connects[1:], strict=False)]
            return any(gap >= BACKOFF_S - 0.5 for gap in gaps)

        with changed:
            assert changed.wait_for(backed_off, timeout=4 * BACKOFF_S), connects
    finally:
        for twin in twins:
            twin.stop()
