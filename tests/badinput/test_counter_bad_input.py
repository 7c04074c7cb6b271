"""The counter node under bad input on the topics it reads: ``board`` and ``node/counter-N/cmd``.

A board state that fails validation must leave the number board as it was and
be reported as ``event/error`` with code ``bad_payload``; a technician command
that fails gets a failed TechReply too. A valid board state without this
counter's row is ignored (the kiosk's site file may simply not have it yet).
Odd but valid rows (NUL, emoji, a thousand characters) must not stop the node.
The number board here is pyserial's ``loop://``, so the line formatting runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory
from hypothesis import assume, given
from hypothesis import strategies as st

from counter.node import CounterNode
from giliran.config import SiteConfig
from giliran.mqtt import Credentials
from giliran.protocol import BoardState, CounterView, ErrorEvent, TechCommand, TechReply, decode, encode
from hardware_sim.broker import LocalBroker
from tests.badinput.support import (
    BOARDS,
    SITE,
    TALLY,
    TECH_COMMANDS,
    TOPICS,
    WAIT_S,
    HandlerFailures,
    Inbox,
    Outbox,
    bad_payloads,
    broker_cases,
    direct_cases,
    incoming,
    problem_of,
    sample_board,
)

COUNTER = 2
NODE = f"counter-{COUNTER}"


def make_counter(site: SiteConfig, credentials: Credentials | None, clock) -> CounterNode:  # type: ignore[no-untyped-def]
    return CounterNode(site, COUNTER, credentials, pin_factory=MockFactory(), serial_port="loop://", clock=clock)


def close_counter(node: CounterNode) -> None:
    node.close()
    node.pin_factory.reset()  # type: ignore[attr-defined]
    node.pin_factory.close()


def shown(node: CounterNode) -> tuple[object, ...]:
    """What a bad payload must not change: the counter's state as heard, and the line on the number board."""
    screen = node.screen
    return screen.state, screen.serving, screen.line, screen._board_row


def assert_unchanged(node: CounterNode, before: tuple[object, ...]) -> None:
    after = shown(node)
    if after != before:
        TALLY.state_changes += 1
    assert after == before, f"the counter's state changed: {before} -> {after}"


def call(handler, msg) -> None:  # type: ignore[no-untyped-def]
    try:
        handler(msg)
    except Exception:
        TALLY.crashes += 1
        raise


def check_event(payload: bytes, problem: str, topic: str) -> None:
    event = decode(payload, ErrorEvent)
    assert (event.node, event.code, event.message, event.topic) == (NODE, "bad_payload", problem, topic)


@pytest.fixture
def counter(clock) -> Iterator[tuple[CounterNode, Outbox]]:  # type: ignore[no-untyped-def]
    """Counter 2, never connected, serving A005 by a valid board state; tests call its handlers."""
    node = make_counter(SITE, None, clock)
    outbox = Outbox.capture(node.mqtt)
    node._on_board(incoming(TOPICS.board, encode(sample_board({COUNTER: "A005"})), retain=True))
    assert node.screen.line.number == "A005"
    outbox.take()
    try:
        yield node, outbox
    finally:
        close_counter(node)


def check_follows(node: CounterNode) -> None:
    """After the bad input a new valid row still reaches the number board."""
    call(node._on_board, incoming(TOPICS.board, encode(sample_board({COUNTER: "A006"}))))
    assert (node.screen.state, node.screen.line.number) == ("open", "A006")


def test_bad_board_states_are_reported_and_change_nothing(counter) -> None:  # type: ignore[no-untyped-def]
    node, outbox = counter

    @direct_cases(800)
    @given(payload=bad_payloads(BoardState, BOARDS, empty_is_bad=False), retain=st.booleans())
    def case(payload: bytes, retain: bool) -> None:
        problem = problem_of(payload, BoardState)
        assume(problem is not None)
        assert problem is not None
        TALLY.count("counter board", "direct")
        before = shown(node)
        call(node._on_board, incoming(TOPICS.board, payload, retain=retain))
        sent = outbox.take()
        assert [s.topic for s in sent] == [TOPICS.event("error")]
        check_event(sent[0].payload, problem, TOPICS.board)
        assert_unchanged(node, before)

    case()
    check_follows(node)


def test_a_board_state_without_this_counter_changes_nothing(counter) -> None:  # type: ignore[no-untyped-def]
    node, outbox = counter
    others = [c.id for c in SITE.counters if c.id != COUNTER]

    @direct_cases(100)
    @given(keep=st.lists(st.sampled_from(others), unique=True), ids=st.lists(st.integers(-(2**63), 2**63 - 1)))
    def case(keep: list[int], ids: list[int]) -> None:
        TALLY.count("counter board, no row for this counter", "direct")
        state = sample_board({n: "B001" for n in keep})
        rows = [c for c in state.counters if c.id in keep]
        rows += [CounterView(id=i, name={}, state="open", categories=[], serving="X1") for i in ids if i != COUNTER]
        before = shown(node)
        call(node._on_board, incoming(TOPICS.board, encode(BoardState(**{**_fields(state), "counters": rows}))))
        assert outbox.take() == []
        assert_unchanged(node, before)

    case()
    check_follows(node)


def _fields(state: BoardState) -> dict[str, object]:
    return {f: getattr(state, f) for f in state.__struct_fields__}


ODD_TEXT = st.text(max_size=12) | st.sampled_from(["", "\x00", "\r\n", "\u200b", "\U0001f600", "W" * 1000])


def test_odd_but_valid_rows_never_stop_the_counter(counter) -> None:  # type: ignore[no-untyped-def]
    node, outbox = counter

    @direct_cases(150)
    @given(state=st.sampled_from(["open", "paused", "closed"]), serving=st.none() | ODD_TEXT)
    def case(state: str, serving: str | None) -> None:
        TALLY.count("counter board, odd but valid row", "direct")
        call(node._on_board, incoming(TOPICS.board, encode(sample_board({COUNTER: serving}) if state == "open" else
                                                           _with_row(state, serving))))
        node.tick()
        assert outbox.take() == []

    case()
    check_follows(node)


def _with_row(state: str, serving: str | None) -> BoardState:
    board = sample_board()
    rows = [CounterView(id=c.id, name=c.name, state=state if c.id == COUNTER else c.state, categories=c.categories,
                        serving=serving if c.id == COUNTER else c.serving) for c in board.counters]
    return BoardState(**{**_fields(board), "counters": rows})


def test_bad_technician_commands_get_a_failed_reply_and_event(counter) -> None:  # type: ignore[no-untyped-def]
    node, outbox = counter
    topic, reply_topic = TOPICS.node_cmd(NODE), TOPICS.node_reply(NODE)

    @direct_cases(400)
    @given(payload=bad_payloads(TechCommand, TECH_COMMANDS))
    def case(payload: bytes) -> None:
        problem = problem_of(payload, TechCommand)
        assume(problem is not None)
        assert problem is not None
        TALLY.count("counter node/counter-N/cmd", "direct")
        before = shown(node)
        call(node._on_tech, incoming(topic, payload, b"t", reply_topic))
        sent = outbox.take()
        assert [s.topic for s in sent] == [TOPICS.event("error"), reply_topic]
        check_event(sent[0].payload, problem, topic)
        reply = decode(sent[1].payload, TechReply)
        assert (reply.ok, reply.node, reply.message, sent[1].correlation_data) == (False, NODE, problem, b"t")
        assert_unchanged(node, before)

    @direct_cases(60)
    @given(action=st.sampled_from(["test_print", "reprint", "reload", "notice", "snapshot"]))
    def refused(action: str) -> None:
        TALLY.count("counter node/counter-N/cmd, refused", "direct")
        before = shown(node)
        call(node._on_tech, incoming(topic, encode(TechCommand(action=action)), b"r", reply_topic))  # type: ignore[arg-type]
        sent = outbox.take()
        reply = decode(sent[-1].payload, TechReply)
        assert [s.topic for s in sent] == [reply_topic]
        assert not reply.ok and f"supports only 'ping', not {action!r}" in reply.message
        assert_unchanged(node, before)

    case()
    refused()
    call(node._on_tech, incoming(topic, encode(TechCommand(action="ping")), b"p", reply_topic))
    assert "counter 2 open, board shows 'A005'" in decode(outbox.take()[-1].payload, TechReply).message


# --- through the broker ----------------------------------------------------------------------------------------------


class Desk:
    """Counter 2 on the test broker; the kiosk's client sends board states, the technician commands and watches."""

    def __init__(self, broker: LocalBroker, clock, connect) -> None:  # type: ignore[no-untyped-def]
        self.kiosk = connect("kiosk", "kiosk")
        self.tech = connect("technician", "technician")
        self.inbox = Inbox()
        for topic in (TOPICS.event("error"), TOPICS.node_reply(NODE)):
            self.tech.subscribe(topic, self.inbox)
        self.kiosk.publish(TOPICS.board, sample_board({COUNTER: "A005"}), retain=True).wait(WAIT_S)
        self.node = make_counter(broker.site, broker.credentials(NODE), clock)
        self.node.start()
        self.node.wait_ready(WAIT_S)


@pytest.fixture
def desk(broker: LocalBroker, clock, connect) -> Iterator[Desk]:  # type: ignore[no-untyped-def]
    with HandlerFailures.watching() as failures:
        d = Desk(broker, clock, connect)
        try:
            yield d
        finally:
            close_counter(d.node)
    assert failures.failures == [], failures.failures


def test_bad_input_through_the_broker(desk: Desk) -> None:
    node = desk.node
    errors: list[tuple[str, str]] = []
    topic, reply_topic = TOPICS.node_cmd(NODE), TOPICS.node_reply(NODE)

    def seen_errors() -> list[tuple[str, str | None]]:
        return [(e.message, e.topic) for e in (decode(m.payload, ErrorEvent) for m in desk.inbox.on(TOPICS.event("error")))]

    @broker_cases(500)
    @given(payload=bad_payloads(BoardState, BOARDS, empty_is_bad=False))
    def board_case(payload: bytes) -> None:
        problem = problem_of(payload, BoardState)
        assume(problem is not None)
        assert problem is not None
        TALLY.count("counter board", "broker")
        before = shown(node)
        desk.kiosk.publish(TOPICS.board, payload).wait(WAIT_S)
        errors.append((problem, TOPICS.board))
        try:
            desk.inbox.wait_count(TOPICS.event("error"), len(errors))
        except AssertionError:
            TALLY.crashes += 1
            raise
        assert seen_errors() == errors
        assert_unchanged(node, before)

    @broker_cases(300)
    @given(payload=bad_payloads(TechCommand, TECH_COMMANDS))
    def command_case(payload: bytes) -> None:
        problem = problem_of(payload, TechCommand)
        assume(problem is not None)
        assert problem is not None
        TALLY.count("counter node/counter-N/cmd", "broker")
        before = shown(node)
        correlation = f"case-{len(errors)}".encode()
        desk.tech.publish(topic, payload, response_topic=reply_topic, correlation_data=correlation).wait(WAIT_S)
        try:
            reply = decode(desk.inbox.reply(correlation).payload, TechReply)
        except AssertionError:
            TALLY.crashes += 1
            raise
        errors.append((problem, topic))
        assert (reply.ok, reply.message) == (False, problem)
        assert seen_errors() == errors
        assert_unchanged(node, before)

    board_case()
    command_case()
    desk.kiosk.publish(TOPICS.board, sample_board({COUNTER: "A006"}), retain=True).wait(WAIT_S)
    reply = desk.tech.request(topic, TechCommand(action="ping"), TechReply, response_topic=reply_topic)
    # The ping is answered after the board state before it (one subscriber, in order): A006 is showing.
    assert reply.ok and "board shows 'A006'" in reply.message, reply
    assert node.screen.line.number == "A006"
