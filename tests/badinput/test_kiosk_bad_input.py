"""The kiosk under bad input on the topics it serves: ``counter/<n>/cmd`` and ``node/kiosk/cmd``.

Every case must get an error reply naming the problem (and, for a payload that
fails validation, an ``event/error`` with code ``bad_payload``), and must leave
the ledger exactly as it was; after thousands of them the same kiosk still
serves a valid command. Most cases call the handlers directly (fast, and
Hypothesis shrinks a failure to its core); thousands more go through a real
Mosquitto, as a technician's or a counter's client would send them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from gpiozero.pins.mock import MockFactory
from hypothesis import assume, example, given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from giliran.config import SiteConfig
from giliran.mqtt import Credentials
from giliran.protocol import (
    CounterCommand,
    CounterReply,
    ErrorInfo,
    TechCommand,
    TechReply,
    decode,
    encode,
)
from hardware_sim.broker import LocalBroker
from hardware_sim.printer import SimulatedPrinter
from kiosk.node import KioskNode
from tests.badinput.support import (
    AMPLIFIER,
    BROKER_MAX_PACKET,
    COUNTER_COMMANDS,
    SITE,
    TALLY,
    TECH_COMMANDS,
    TOPICS,
    WAIT_S,
    OnBroker,
    Outbox,
    bad_case,
    bad_payloads,
    broker_cases,
    call,
    check_bad_tech,
    check_error_event,
    direct_cases,
    incoming,
    safe_text,
    unchanged_state,
)

COUNTERS = [c.id for c in SITE.counters]
CATEGORIES = [c.id for c in SITE.categories]
#: The hall of these tests has one 'death' ticket waiting (counters 4 and 6 serve it) and nobody served yet;
#: the other counters are open (a Next there finds nobody and changes nothing).
IDLE = [c.id for c in SITE.counters if "death" not in c.categories]
EXPIRY_S = SITE.calling.command_expiry_s
#: The kiosk's time in these tests (the ``clock`` fixture, which they do not move).
KIOSK_NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=SITE.site.zone)


class Monotonic:
    """The kiosk's monotonic clock, standing still: debounce and printer polls play no part here."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_kiosk(site: SiteConfig, credentials: Credentials | None, ledger_path: Path, clock) -> KioskNode:  # type: ignore[no-untyped-def]
    """A kiosk on mock pins and a simulated printer, with one 'death' ticket waiting."""
    node = KioskNode(site, credentials, pin_factory=MockFactory(), printer=SimulatedPrinter("TM-T20II", paper_mm=80),
                     clock=clock, monotonic=Monotonic(), ledger_path=ledger_path)
    node.ledger.confirm(node.ledger.reserve("death").id)
    for counter in IDLE:
        node.ledger.set_counter_state(counter, "open")
    return node


def close_kiosk(node: KioskNode) -> None:
    node.close()
    node.pin_factory.close()


def snapshot(node: KioskNode) -> tuple[object, ...]:
    """Everything a bad command could change: the event log's end, counters, the queue."""
    ledger = node.ledger
    last = ledger.events(limit=1_000_000)[-1]["seq"]
    counters = tuple((c.id, c.state, c.serving.number if c.serving else None) for c in ledger.counters())
    return last, counters, tuple(t.number for t in ledger.waiting())


def unchanged(node: KioskNode) -> AbstractContextManager[None]:
    return unchanged_state(lambda: snapshot(node), "the ledger")


def command(action: str, draw: st.DrawFn, *, sent_at: dt.datetime | None = None) -> CounterCommand:
    """A valid command: transfer gets a category, feedback a rating."""
    category = draw(st.sampled_from(CATEGORIES)) if action == "transfer" else None
    rating = draw(st.sampled_from(["very_good", "good", "poor"])) if action == "feedback" else None
    return CounterCommand(action=action, category=category, rating=rating, sent_at=sent_at)  # type: ignore[arg-type]


@st.composite
def refused_commands(draw: st.DrawFn) -> tuple[str, bytes, str, str]:
    """(topic level, payload, error code, words the message must hold): valid commands the hall must refuse."""
    sent_at = draw(st.sampled_from([None, KIOSK_NOW]))
    counter = draw(st.sampled_from(COUNTERS))
    how = draw(st.sampled_from(["unknown_category", "not_serving", "nothing_to_rate", "nobody_waiting",
                                "unknown_counter", "not_a_counter", "stale_command"]))
    if how == "unknown_category":
        category = draw(safe_text().filter(bool) | st.integers(1_000, 40_000).map(lambda n: "z\\" * (n // 2)))
        assume(category not in CATEGORIES)
        cmd = CounterCommand(action="transfer", category=category, sent_at=sent_at)
        return str(counter), encode(cmd), how, "no category"
    if how == "not_serving":
        cmd = command(draw(st.sampled_from(["recall", "done", "no_show", "transfer"])), draw, sent_at=sent_at)
        return str(counter), encode(cmd), how, f"counter {counter} is not serving a ticket"
    if how == "nothing_to_rate":
        return str(counter), encode(command("feedback", draw, sent_at=sent_at)), how, "has not served anyone yet"
    if how == "nobody_waiting":
        idle = draw(st.sampled_from(IDLE))
        return str(idle), encode(CounterCommand(action="next", sent_at=sent_at)), how, "no one is waiting"
    action = draw(st.sampled_from(["next", "recall", "no_show", "done", "transfer", "pause", "open", "close",
                                   "feedback"]))
    if how == "unknown_counter":
        number = draw(st.integers(0, 10**30).filter(lambda n: n not in COUNTERS))
        return str(number), encode(command(action, draw, sent_at=sent_at)), how, f"no counter {number}"
    if how == "not_a_counter":
        level = draw(safe_text(12).filter(lambda s: not (s.isascii() and s.isdigit())))
        return level, encode(command(action, draw, sent_at=sent_at)), "bad_payload", "does not name a counter number"
    age = draw(st.floats(EXPIRY_S + 1, 30 * 86400))
    old = KIOSK_NOW - dt.timedelta(seconds=age)  # counters stamp commands in the kiosk's time
    return str(counter), encode(command(action, draw, sent_at=old)), how, "s old (limit"


@st.composite
def refused_tech(draw: st.DrawFn) -> tuple[bytes, str]:
    """(payload, words the message must hold): valid technician commands this kiosk cannot do."""
    action = draw(st.sampled_from(["notice", "volume", "snapshot", "reload", "reprint"]))
    volume = draw(st.floats(0.0, 1.0)) if action == "volume" else None
    path = draw(st.none() | safe_text()) if action == "snapshot" else None
    words = {"reload": "not started from a site file", "reprint": "no ticket has been printed"}
    cmd = TechCommand(action=action, volume=volume, path=path)  # type: ignore[arg-type]
    return encode(cmd), words.get(action, f"the kiosk does not support {action!r}")


# --- direct: the handlers, called as the network thread would ----------------------------------------


@pytest.fixture
def direct(tmp_path: Path, clock) -> Iterator[tuple[KioskNode, Outbox]]:  # type: ignore[no-untyped-def]
    """A kiosk whose MQTT never connects: tests call its handlers and read what it would publish."""
    node = make_kiosk(SITE, None, tmp_path / "ledger.sqlite", clock)
    outbox = Outbox.capture(node.mqtt)
    try:
        yield node, outbox
    finally:
        close_kiosk(node)


def counter_command(node: KioskNode, level: str, payload: bytes, correlation: bytes) -> None:
    call(node.service._on_counter_command, incoming(TOPICS.counter_cmd(level), payload, correlation,
                                                    TOPICS.counter_reply(level)))


def tech_command(node: KioskNode, payload: bytes, correlation: bytes) -> None:
    call(node.service._on_tech_command, incoming(TOPICS.node_cmd("kiosk"), payload, correlation,
                                                 TOPICS.node_reply("kiosk")))


def check_served(node: KioskNode, outbox: Outbox) -> None:
    """After the bad input, counter 4's Next calls the waiting ticket and the board follows."""
    counter_command(node, "4", encode(CounterCommand(action="next", sent_at=KIOSK_NOW)), b"ok")
    sent = outbox.take()
    reply = decode(next(s for s in sent if s.topic == TOPICS.counter_reply(4)).payload, CounterReply)
    assert reply.ok and reply.ticket is not None and reply.ticket.number == "C001", reply
    assert next(c for c in node.ledger.counters() if c.id == 4).serving is not None


def test_bad_counter_commands_get_a_bad_payload_reply_and_event(direct) -> None:  # type: ignore[no-untyped-def]
    node, outbox = direct

    @direct_cases(2000)
    @given(counter=st.sampled_from(COUNTERS), payload=bad_payloads(CounterCommand, COUNTER_COMMANDS))
    @example(counter=3, payload=AMPLIFIER)
    def case(counter: int, payload: bytes) -> None:
        problem = bad_case(payload, CounterCommand, "kiosk counter/<n>/cmd", "direct")
        with unchanged(node):
            counter_command(node, str(counter), payload, b"c")
            sent = outbox.take()
            assert [s.topic for s in sent] == [TOPICS.event("error"), TOPICS.counter_reply(counter)]
            check_error_event(sent[0].payload, "kiosk", problem, TOPICS.counter_cmd(counter))
            reply = decode(sent[1].payload, CounterReply)
            assert (reply.ok, reply.counter, reply.error) == (False, counter, ErrorInfo(code="bad_payload", message=problem))
            assert sent[1].correlation_data == b"c"

    case()
    check_served(node, outbox)


def test_valid_commands_the_hall_cannot_do_are_refused_with_the_reason(direct) -> None:  # type: ignore[no-untyped-def]
    node, outbox = direct

    @direct_cases(800)
    @given(case=refused_commands())
    def refused(case: tuple[str, bytes, str, str]) -> None:
        level, payload, code, words = case
        TALLY.count("kiosk counter/<n>/cmd, refused", "direct")
        with unchanged(node):
            counter_command(node, level, payload, b"r")
            sent = outbox.take()
            reply = decode(sent[-1].payload, CounterReply)
            replied_on = level if level.isascii() and level.isdigit() else "unknown"
            assert sent[-1].topic == TOPICS.counter_reply(replied_on) and sent[-1].correlation_data == b"r"
            assert not reply.ok and reply.error is not None
            assert reply.error.code == code and words in reply.error.message, reply.error
            if code == "bad_payload":
                assert [s.topic for s in sent] == [TOPICS.event("error"), TOPICS.counter_reply(replied_on)]
                check_error_event(sent[0].payload, "kiosk", reply.error.message, TOPICS.counter_cmd(level))
            else:
                assert len(sent) == 1, [s.topic for s in sent]
                assert reply.action == decode(payload, CounterCommand).action

    refused()
    check_served(node, outbox)


def test_bad_technician_commands_get_a_failed_reply_and_event(direct) -> None:  # type: ignore[no-untyped-def]
    node, outbox = direct

    @direct_cases(700)
    @given(payload=bad_payloads(TechCommand, TECH_COMMANDS))
    def case(payload: bytes) -> None:
        problem = bad_case(payload, TechCommand, "kiosk node/kiosk/cmd", "direct")
        with unchanged(node):
            check_bad_tech(node.service._on_tech_command, outbox, "kiosk", payload, problem)

    case()
    tech_command(node, encode(TechCommand(action="ping")), b"p")
    assert decode(outbox.take()[-1].payload, TechReply).message == "pong"


def test_technician_commands_the_kiosk_cannot_do_are_refused(direct) -> None:  # type: ignore[no-untyped-def]
    node, outbox = direct

    @direct_cases(150)
    @given(case=refused_tech())
    def refused(case: tuple[bytes, str]) -> None:
        payload, words = case
        TALLY.count("kiosk node/kiosk/cmd, refused", "direct")
        with unchanged(node):
            tech_command(node, payload, b"t")
            sent = outbox.take()
            assert [s.topic for s in sent if s.topic != TOPICS.status("kiosk")] == [TOPICS.node_reply("kiosk")]
            reply = decode(sent[-1].payload, TechReply)
            assert not reply.ok and words in reply.message, reply

    refused()
    check_served(node, outbox)


# --- through the broker ------------------------------------------------------------------------------------


class Hall(OnBroker):
    """A real kiosk on the test broker, and a technician's client that sends and watches (counter replies and the
    board too)."""

    def __init__(self, broker: LocalBroker, path: Path, clock, connect) -> None:  # type: ignore[no-untyped-def]
        self.node = make_kiosk(broker.site, broker.credentials("kiosk"), path, clock)
        self.node.start()
        self.node.mqtt.wait_connected(WAIT_S)
        super().__init__(connect, "kiosk", TOPICS.counter_reply("+"), TOPICS.board)


@pytest.fixture
def hall(broker: LocalBroker, tmp_path: Path, clock, connect, no_handler_failures: None) -> Iterator[Hall]:  # type: ignore[no-untyped-def]
    h = Hall(broker, tmp_path / "ledger.sqlite", clock, connect)
    try:
        yield h
    finally:
        close_kiosk(h.node)


def check_served_via_broker(hall: Hall, connect) -> None:  # type: ignore[no-untyped-def]
    """Counter 4's own client gets C001 for Next, and the retained board shows it at counter 4."""
    counter = connect("counter-4", "counter")
    reply = counter.request(TOPICS.counter_cmd(4), CounterCommand(action="next", sent_at=KIOSK_NOW), CounterReply,
                            response_topic=TOPICS.counter_reply(4))
    assert reply.ok and reply.ticket is not None and reply.ticket.number == "C001", reply
    hall.inbox.wait_for(TOPICS.board, lambda m: b'"serving":"C001"' in m.payload)


def test_bad_commands_through_the_broker(hall: Hall, connect) -> None:  # type: ignore[no-untyped-def]
    expected: list[str] = []

    @broker_cases(1000)
    @given(counter=st.sampled_from(COUNTERS), payload=bad_payloads(CounterCommand, COUNTER_COMMANDS))
    @example(counter=3, payload=AMPLIFIER)  # the kiosk's error reply and event must stay under the packet limit
    def case(counter: int, payload: bytes) -> None:
        problem = bad_case(payload, CounterCommand, "kiosk counter/<n>/cmd", "broker")
        with unchanged(hall.node):
            msg = hall.send(TOPICS.counter_cmd(counter), payload, TOPICS.counter_reply(counter))
            reply = decode(msg.payload, CounterReply)
            assert msg.topic == TOPICS.counter_reply(counter)
            assert (reply.ok, reply.counter, reply.error) == (False, counter, ErrorInfo(code="bad_payload", message=problem))
            expected.append(problem)
            # The kiosk publishes the event before the reply on one connection: it is here already.
            assert [e.message for e in hall.errors()] == expected

    case()
    check_served_via_broker(hall, connect)


def test_refused_and_bad_technician_commands_through_the_broker(hall: Hall, connect) -> None:  # type: ignore[no-untyped-def]
    @broker_cases(400)
    @given(case=refused_commands())
    def refused(case: tuple[str, bytes, str, str]) -> None:
        level, payload, code, words = case
        TALLY.count("kiosk counter/<n>/cmd, refused", "broker")
        with unchanged(hall.node):
            reply = decode(hall.send(TOPICS.counter_cmd(level), payload, TOPICS.counter_reply(level)).payload,
                           CounterReply)
            assert not reply.ok and reply.error is not None
            assert reply.error.code == code and words in reply.error.message, reply.error

    @broker_cases(400)
    @given(payload=bad_payloads(TechCommand, TECH_COMMANDS))
    def bad_tech(payload: bytes) -> None:
        problem = bad_case(payload, TechCommand, "kiosk node/kiosk/cmd", "broker")
        with unchanged(hall.node):
            # Not hall.check_bad_tech: the refused counter commands before these raise bad_payload events of
            # their own (a level that is not a number), which this test does not list.
            reply = decode(hall.send(TOPICS.node_cmd("kiosk"), payload, TOPICS.node_reply("kiosk")).payload, TechReply)
            assert (reply.ok, reply.message) == (False, problem)
            assert hall.errors()[-1].message == problem

    refused()
    bad_tech()
    check_served_via_broker(hall, connect)


def test_a_message_over_the_brokers_packet_limit_never_reaches_the_kiosk(hall: Hall, broker: LocalBroker,
                                                                        connect) -> None:  # type: ignore[no-untyped-def]
    """Mosquitto refuses a packet over max_packet_size and drops the sender; the kiosk sees nothing of it."""
    TALLY.count("kiosk counter/<n>/cmd, over the broker's limit", "broker")
    before = snapshot(hall.node)
    creds = broker.credentials("technician")
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="badinput-oversize", protocol=paho.MQTTv5)
    client.username_pw_set(creds.username, creds.password)
    events: dict[str, object] = {}
    done = threading.Event()
    client.on_connect = lambda _c, _u, _f, rc, _p: events.setdefault("connack", rc)
    client.on_publish = lambda _c, _u, _m, rc, _p: events.setdefault("puback", rc)

    def disconnected(_c, _u, _f, rc, _p) -> None:  # type: ignore[no-untyped-def]
        events["disconnect"] = rc
        done.set()

    client.on_disconnect = disconnected
    client.connect("127.0.0.1", broker.port, clean_start=True)
    for _ in range(100):  # bounded: about 5 s of network loop
        client.loop(0.05)
        if "connack" in events:
            break
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic, props.CorrelationData = TOPICS.counter_reply(3), b"too-big"
    big = encode(CounterCommand(action="next"))[:-1] + b" " * BROKER_MAX_PACKET + b"}"
    client.publish(TOPICS.counter_cmd(3), big, qos=1, properties=props)
    for _ in range(100):  # no loop_start: paho would reconnect and send it again, for ever
        client.loop(0.05)
        if done.is_set():
            break
    client.disconnect()
    assert "puback" not in events and str(events.get("disconnect")) == "Packet too large", events
    assert snapshot(hall.node) == before
    check_served_via_broker(hall, connect)
    assert b"too-big" not in hall.inbox.by_correlation
