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
from contextlib import AbstractContextManager

import pytest
from gpiozero.pins.mock import MockFactory
from hypothesis import given
from hypothesis import strategies as st

from counter.node import CounterNode
from giliran.config import SiteConfig
from giliran.mqtt import Credentials
from giliran.protocol import BoardState, CounterView, TechCommand, TechReply, decode, encode
from hardware_sim.broker import LocalBroker
from tests.badinput.support import (
    BOARDS,
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
    check_bad_state,
    check_bad_tech,
    direct_cases,
    incoming,
    sample_board,
    unchanged_state,
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


def unchanged(node: CounterNode) -> AbstractContextManager[None]:
    return unchanged_state(lambda: shown(node), "the counter's state")


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
        problem = bad_case(payload, BoardState, "counter board", "direct")
        with unchanged(node):
            check_bad_state(node._on_board, outbox, NODE, TOPICS.board, payload, problem, retain=retain)

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
        with unchanged(node):
            call(node._on_board, incoming(TOPICS.board, encode(BoardState(**{**_fields(state), "counters": rows}))))
            assert outbox.take() == []

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
        problem = bad_case(payload, TechCommand, "counter node/counter-N/cmd", "direct")
        with unchanged(node):
            check_bad_tech(node._on_tech, outbox, NODE, payload, problem)

    @direct_cases(60)
    @given(action=st.sampled_from(["test_print", "reprint", "reload", "notice", "snapshot"]))
    def refused(action: str) -> None:
        TALLY.count("counter node/counter-N/cmd, refused", "direct")
        with unchanged(node):
            call(node._on_tech, incoming(topic, encode(TechCommand(action=action)), b"r", reply_topic))  # type: ignore[arg-type]
            sent = outbox.take()
            reply = decode(sent[-1].payload, TechReply)
            assert [s.topic for s in sent] == [reply_topic]
            assert not reply.ok and f"supports only 'ping', not {action!r}" in reply.message

    case()
    refused()
    call(node._on_tech, incoming(topic, encode(TechCommand(action="ping")), b"p", reply_topic))
    assert "counter 2 open, board shows 'A005'" in decode(outbox.take()[-1].payload, TechReply).message


# --- through the broker ----------------------------------------------------------------------------------------------


class Desk(OnBroker):
    """Counter 2 on the test broker; the kiosk's client sends board states, the technician commands and watches."""

    def __init__(self, broker: LocalBroker, clock, connect) -> None:  # type: ignore[no-untyped-def]
        self.kiosk = connect("kiosk", "kiosk")
        super().__init__(connect, NODE)
        self.kiosk.publish(TOPICS.board, sample_board({COUNTER: "A005"}), retain=True).wait(WAIT_S)
        self.node = make_counter(broker.site, broker.credentials(NODE), clock)
        self.node.start()
        self.node.wait_ready(WAIT_S)


@pytest.fixture
def desk(broker: LocalBroker, clock, connect, no_handler_failures: None) -> Iterator[Desk]:  # type: ignore[no-untyped-def]
    d = Desk(broker, clock, connect)
    try:
        yield d
    finally:
        close_counter(d.node)


def test_bad_input_through_the_broker(desk: Desk) -> None:
    node = desk.node
    topic, reply_topic = TOPICS.node_cmd(NODE), TOPICS.node_reply(NODE)

    @broker_cases(500)
    @given(payload=bad_payloads(BoardState, BOARDS, empty_is_bad=False))
    def board_case(payload: bytes) -> None:
        problem = bad_case(payload, BoardState, "counter board", "broker")
        with unchanged(node):
            desk.check_bad_state(desk.kiosk, TOPICS.board, payload, problem)

    @broker_cases(300)
    @given(payload=bad_payloads(TechCommand, TECH_COMMANDS))
    def command_case(payload: bytes) -> None:
        problem = bad_case(payload, TechCommand, "counter node/counter-N/cmd", "broker")
        with unchanged(node):
            desk.check_bad_tech(payload, problem)

    board_case()
    command_case()
    desk.kiosk.publish(TOPICS.board, sample_board({COUNTER: "A006"}), retain=True).wait(WAIT_S)
    reply = desk.tech.request(topic, TechCommand(action="ping"), TechReply, response_topic=reply_topic)
    # The ping is answered after the board state before it (one subscriber, in order): A006 is showing.
    assert reply.ok and "board shows 'A006'" in reply.message, reply
    assert node.screen.line.number == "A006"
