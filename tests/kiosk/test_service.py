"""The kiosk serves the ledger over a real Mosquitto: replies, board state, bad input, ACLs."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from counter.commands import CounterClient
from giliran.errors import PublishRefused
from giliran.mqtt import Credentials
from giliran.protocol import BoardState, CounterCommand, CounterReply, ErrorEvent, NodeStatus, decode
from hardware_sim.broker import LocalBroker
from kiosk.service import LedgerService

ROOT = Path(__file__).resolve().parents[2]


def issue(service: LedgerService, category: str) -> str:
    ticket = service.ledger.confirm(service.ledger.reserve(category).id)
    service.changed("issued", ticket)
    return ticket.number


def counter_client(broker: LocalBroker, n: int, node) -> CounterClient:  # type: ignore[no-untyped-def]
    return CounterClient(broker.site, n, None, node=node)


def test_counter_next_gets_the_ticket_and_boards_see_it(kiosk, broker, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    issue(kiosk, "birth")
    board = recorder()
    display = connect("display-hall", "display")
    display.subscribe(display.topics.board, board)
    client = counter_client(broker, 3, connect("counter-3", "counter"))
    reply = client.command("next")
    assert reply.ok and reply.ticket is not None
    assert (reply.ticket.number, reply.counter, reply.waiting) == ("A001", 3, 1)
    msg = board.wait_for(lambda m: any(c.serving == "A001" for c in decode(m.payload, BoardState).counters))
    state = decode(msg.payload, BoardState)
    assert state.calls[0].number == "A001" and state.calls[0].counter == 3
    assert {c.id: c.waiting for c in state.categories}["birth"] == 1


def test_board_state_is_retained_for_a_board_that_starts_later(kiosk, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "priority")
    tech = connect("technician", "technician")
    live = recorder()
    tech.subscribe(tech.topics.board, live)
    live.wait_for(lambda m: {c.id: c.waiting for c in decode(m.payload, BoardState).categories}["priority"] == 1)
    late = recorder()
    display = connect("display-entrance", "display")
    display.subscribe(display.topics.board, late)
    msg = late.wait_for(lambda m: m.retain)
    assert {c.id: c.waiting for c in decode(msg.payload, BoardState).categories}["priority"] == 1


def test_a_refused_action_gets_a_clear_error(kiosk, broker, connect) -> None:  # type: ignore[no-untyped-def]
    reply = counter_client(broker, 2, connect("counter-2", "counter")).command("next")
    assert not reply.ok and reply.error is not None
    assert reply.error.code == "nobody_waiting"
    assert "no one is waiting for counter 2's services" in reply.error.message


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"not json", "not a JSON CounterCommand"),
        (b'{"v": 1, "action": "nxt"}', "action: Invalid enum value 'nxt'"),
        (b'{"v": 9, "action": "next"}', "protocol version 9 is not spoken here"),
        (b'{"v": 1, "action": "transfer"}', "needs the target 'category'"),
        (b'{"v": 1, "action": "next", "extra": 1}', "unknown field `extra`"),
    ],
)
def test_a_bad_payload_gets_an_error_reply_and_event_and_changes_nothing(
    kiosk, connect, recorder, payload: bytes, problem: str,  # type: ignore[no-untyped-def]
) -> None:
    issue(kiosk, "mykad")
    before = len(kiosk.ledger.events())
    tech = connect("technician", "technician")
    errors = recorder()
    tech.subscribe(tech.topics.event("error"), errors)
    counter = connect("counter-3", "counter")
    replies = recorder()
    counter.subscribe(counter.topics.counter_reply(3), replies)
    counter.publish(counter.topics.counter_cmd(3), payload, response_topic=counter.topics.counter_reply(3),
                    correlation_data=b"c1").wait(5)
    reply = decode(replies.wait_for(lambda m: m.correlation_data == b"c1").payload, CounterReply)
    assert not reply.ok and reply.error is not None
    assert reply.error.code == "bad_payload" and problem in reply.error.message
    event = decode(errors.wait_for(lambda m: True).payload, ErrorEvent)
    assert problem in event.message and event.topic == counter.topics.counter_cmd(3)
    assert len(kiosk.ledger.events()) == before
    assert [t.number for t in kiosk.ledger.waiting()] == ["A001"]


def test_a_command_older_than_the_expiry_is_refused(kiosk, broker, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    counter = connect("counter-2", "counter")
    kiosk_now = dt.datetime.fromtimestamp(kiosk.ledger.now(), dt.UTC)  # commands carry kiosk time
    old = CounterCommand(action="next", sent_at=kiosk_now - dt.timedelta(seconds=60))
    reply = counter.request(counter.topics.counter_cmd(2), old, CounterReply,
                            response_topic=counter.topics.counter_reply(2))
    assert not reply.ok and reply.error is not None and reply.error.code == "stale_command"
    assert [t.number for t in kiosk.ledger.waiting()] == ["A001"]


def test_a_response_topic_outside_the_counter_is_not_used(kiosk, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    tech = connect("technician", "technician")
    board = recorder()
    tech.subscribe(tech.topics.board, board)
    replies = recorder()
    tech.subscribe(tech.topics.counter_reply(1), replies)
    tech.publish(tech.topics.counter_cmd(1), CounterCommand(action="open"), response_topic=tech.topics.board,
                 correlation_data=b"x").wait(5)
    reply = replies.wait_for(lambda m: m.correlation_data == b"x")
    assert decode(reply.payload, CounterReply).ok
    assert all(b"\"ok\"" not in m.payload for m in board.messages)


# --- security -------------------------------------------------------------------------


def test_anonymous_clients_are_refused(broker) -> None:  # type: ignore[no-untyped-def]
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    _wait_connack(client)


def _wait_connack(client: paho.Client) -> None:
    result: list[paho.ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, rc, _p: result.append(rc)
    for _ in range(50):
        client.loop(0.1)
        if result:
            break
    client.disconnect()
    assert result and result[0].is_failure, f"anonymous connect was not refused: {result}"
    assert result[0].value in (135, 134), result[0]  # not authorized / bad user name or password


def test_wrong_password_is_refused(broker) -> None:  # type: ignore[no-untyped-def]
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.username_pw_set("kiosk", "guess")
    client.connect("127.0.0.1", broker.port)
    _wait_connack(client)


def test_a_board_cannot_call_a_number_and_sees_the_refusal(kiosk, connect) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    display = connect("display-hall", "display")
    with pytest.raises(PublishRefused, match="Not authorized"):
        display.publish(display.topics.counter_cmd(2), CounterCommand(action="next")).wait(5)
    assert [t.number for t in kiosk.ledger.waiting()] == ["A001"]


def test_counter_3_cannot_command_counter_4(kiosk, connect) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "birth")
    counter3 = connect("counter-3", "counter")
    with pytest.raises(PublishRefused):
        counter3.publish(counter3.topics.counter_cmd(4), CounterCommand(action="next")).wait(5)
    assert [t.number for t in kiosk.ledger.waiting()] == ["B001"]


def test_a_board_cannot_read_counter_commands_or_replies(kiosk, broker, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    display = connect("display-hall", "display")
    snooped = recorder()
    display.subscribe(display.topics.root + "/counter/#", snooped)
    tech = connect("technician", "technician")
    seen = recorder()
    tech.subscribe(tech.topics.root + "/counter/#", seen)
    assert counter_client(broker, 2, connect("counter-2", "counter")).command("next").ok
    seen.wait_for(lambda m: m.topic.endswith("/reply"))
    assert snooped.messages == []


def test_only_the_kiosk_publishes_board_state(kiosk, connect) -> None:  # type: ignore[no-untyped-def]
    counter = connect("counter-1", "counter")
    with pytest.raises(PublishRefused):
        counter.publish(counter.topics.board, b"{}", retain=True).wait(5)


def test_status_is_online_then_offline_on_stop_and_on_kill(broker, connect, recorder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tech = connect("technician", "technician")
    statuses = recorder()
    tech.subscribe(tech.topics.status("+"), statuses)
    counter = connect("counter-5", "counter")
    statuses.wait_for(lambda m: m.topic.endswith("counter-5") and decode(m.payload, NodeStatus).state == "online")
    counter.stop()
    statuses.wait_for(lambda m: m.topic.endswith("counter-5") and decode(m.payload, NodeStatus).state == "offline")
    # A node killed with SIGKILL: the broker publishes its last will.
    script = (
        "import sys, time; from pathlib import Path\n"
        "from giliran.config import load_site; from giliran.mqtt import MqttNode, Credentials\n"
        "import msgspec\n"
        f"site = load_site(Path({str(ROOT / 'examples/site.toml')!r}))\n"
        f"site = msgspec.structs.replace(site, broker=msgspec.structs.replace(site.broker, port={broker.port}))\n"
        f"node = MqttNode(site, 'counter-6', 'counter', Credentials.load(Path({str(broker.files.credentials_dir / 'counter-6.toml')!r})))\n"
        "node.start(); node.wait_connected(5); print('up', flush=True); time.sleep(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"up"
        statuses.wait_for(lambda m: m.topic.endswith("counter-6") and decode(m.payload, NodeStatus).state == "online")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
        statuses.wait_for(lambda m: m.topic.endswith("counter-6") and decode(m.payload, NodeStatus).state == "offline")
    finally:
        proc.kill()
        proc.wait()


def test_credentials_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "kiosk.toml"
    bad.write_text('username = "kiosk"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="password: missing"):
        Credentials.load(bad)


def test_a_publish_over_the_packet_limit_is_refused_locally_and_the_node_stays_connected(connect) -> None:  # type: ignore[no-untyped-def]
    tech = connect("technician", "technician")
    with pytest.raises(PublishRefused, match="packet limit"):
        tech.publish(tech.topics.notice, b"x" * 200_000).wait(5)
    assert tech.connected
    tech.publish(tech.topics.node_cmd("kiosk"), b'{"v":1,"action":"ping"}').wait(5)
