"""Display boards under bad input on every topic they read: ``board``, ``notice``, ``status/kiosk``, ``node/display-X/cmd``.

A payload that fails validation must leave the board as it was and show up as
an ``event/error`` with code ``bad_payload`` naming the problem (commands also
get a failed TechReply). Valid but odd input (names with NUL or zero-width
characters, calls to counters elsewhere, odd dates) must never stop the board
drawing: ``frame()`` runs in the display's main loop, and an exception there
ends the process, which systemd restarts into the same retained state.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import msgspec
import pygame
import pytest
from hypothesis import given
from hypothesis import strategies as st

from display.audio import WavRecorder
from display.node import DisplayNode
from giliran.config import SiteConfig
from giliran.mqtt import Credentials
from giliran.protocol import (
    BoardState,
    CallView,
    CategoryView,
    CounterView,
    NodeStatus,
    Notice,
    TechCommand,
    TechReply,
    decode,
    encode,
)
from hardware_sim.broker import LocalBroker
from tests.badinput.support import (
    BOARDS,
    NOTICES,
    SITE,
    STATUSES,
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
    crash_counted,
    direct_cases,
    incoming,
    sample_board,
    unchanged_state,
)

DISPLAYS = [d.id for d in SITE.displays]
CATEGORIES = [c.id for c in SITE.categories]


class StateTopic(msgspec.Struct, frozen=True):
    """A topic a board reads state from: its payload type, the handler, and whether an empty payload is a clear."""

    name: str
    topic: str
    kind: type[msgspec.Struct]
    bases: list[object]
    handler: str
    empty_clears: bool


STATE_TOPICS = [
    StateTopic("board", TOPICS.board, BoardState, BOARDS, "_on_board", True),
    StateTopic("notice", TOPICS.notice, Notice, NOTICES, "_on_notice", True),
    StateTopic("status/kiosk", TOPICS.status("kiosk"), NodeStatus, STATUSES, "_on_kiosk_status", False),
]
ONLINE = NodeStatus(node="kiosk", state="online", role="kiosk")


def make_display(site: SiteConfig, display_id: str, credentials: Credentials | None, clock, voices_dir: Path,  # type: ignore[no-untyped-def]
                 wav: Path) -> DisplayNode:
    pygame.display.init()
    pygame.font.init()
    surface = pygame.Surface(site.display(display_id).resolution)
    return DisplayNode(site, display_id, credentials, surface, player=WavRecorder(wav, clock), voices_dir=voices_dir,
                       clock=clock)


def shown(node: DisplayNode) -> tuple[object, ...]:
    """What a bad payload must not change: the state, the model drawn from it, notice, kiosk health, volume."""
    view = node.view
    volume = node.announcer.volume if node.announcer else None
    return node.state, node._state_at, view._model, view._notice, node._kiosk_online, volume


def unchanged(node: DisplayNode) -> AbstractContextManager[None]:
    return unchanged_state(lambda: shown(node), "the board's state", detail=False)


def draw(node: DisplayNode) -> None:
    """One frame, as the main loop draws it; any exception here would end the display process."""
    with crash_counted():
        node.frame()


# --- direct --------------------------------------------------------------------------------------------------


@pytest.fixture(params=DISPLAYS)
def board(request, clock, voices_dir: Path, tmp_path: Path) -> Iterator[tuple[DisplayNode, Outbox]]:  # type: ignore[no-untyped-def]
    """A board that never connects, showing a valid state and notice; tests call its handlers."""
    node = make_display(SITE, request.param, None, clock, voices_dir, tmp_path / "wav")
    outbox = Outbox.capture(node.mqtt)
    node._on_connection(True)
    node._on_board(incoming(TOPICS.board, encode(sample_board()), retain=True))
    node._on_kiosk_status(incoming(TOPICS.status("kiosk"), encode(ONLINE), retain=True))
    node._on_notice(incoming(TOPICS.notice, encode(Notice(text="Kaunter 5 ditutup")), retain=True))
    node.frame()
    assert outbox.take() == [] and node.state is not None
    try:
        yield node, outbox
    finally:
        node.close()


@pytest.mark.parametrize("state", STATE_TOPICS, ids=[s.name for s in STATE_TOPICS])
def test_bad_state_payloads_are_reported_and_change_nothing(board, state: StateTopic) -> None:  # type: ignore[no-untyped-def]
    node, outbox = board
    handler = getattr(node, state.handler)

    @direct_cases(250)
    @given(payload=bad_payloads(state.kind, state.bases, empty_is_bad=not state.empty_clears),
           retain=st.booleans())
    def case(payload: bytes, retain: bool) -> None:
        problem = bad_case(payload, state.kind, f"display {state.name}", "direct")
        with unchanged(node):
            check_bad_state(handler, outbox, node.node_id, state.topic, payload, problem, retain=retain)

    case()
    check_still_live(node)


def check_still_live(node: DisplayNode) -> None:
    """A new state after the bad input is shown, and drawn."""
    fresh = sample_board({4: "C009", 6: "P001"}, call_ids=(9, 2, 1))
    call(node._on_board, incoming(TOPICS.board, encode(fresh)))
    draw(node)
    assert node.state == fresh and node.view._model is not None
    assert node.view._model.now is not None and node.view._model.now.number == "C009"


def test_bad_technician_commands_get_a_failed_reply_and_event(board) -> None:  # type: ignore[no-untyped-def]
    node, outbox = board
    topic, reply_topic = TOPICS.node_cmd(node.node_id), TOPICS.node_reply(node.node_id)

    @direct_cases(200)
    @given(payload=bad_payloads(TechCommand, TECH_COMMANDS))
    def case(payload: bytes) -> None:
        problem = bad_case(payload, TechCommand, "display node/display-X/cmd", "direct")
        with unchanged(node):
            check_bad_tech(node._on_command, outbox, node.node_id, payload, problem)

    case()
    call(node._on_command, incoming(topic, encode(TechCommand(action="ping")), b"p", reply_topic))
    assert decode(outbox.take()[-1].payload, TechReply).message == "pong"


@st.composite
def refused_commands(draw: st.DrawFn, pa: bool, tmp: Path) -> tuple[TechCommand, str]:
    """(command, words the reply must hold): valid commands this board cannot carry out."""
    how = draw(st.sampled_from(["unsupported", "snapshot", *([] if pa else ["volume"])]))
    if how == "unsupported":
        action = draw(st.sampled_from(["test_print", "reprint", "reload", "notice"]))
        return TechCommand(action=action), f"a display does not support {action!r}"  # type: ignore[arg-type]
    if how == "volume":
        return TechCommand(action="volume", volume=draw(st.floats(0.0, 1.0))), "is not a PA board"
    path = draw(st.sampled_from([
        str(tmp),                                   # a folder
        "/proc/giliran/board.png",                  # a place nobody can write
        str(tmp / "file.png" / "board.png"),        # under a file
        str(tmp / ("x" * 300 + ".png")),            # a name too long for the file system
        str(tmp / "nul\x00.png"),                   # a NUL in the path
    ]))
    return TechCommand(action="snapshot", path=path), "snapshot"


def test_commands_a_board_cannot_carry_out_are_refused_with_the_reason(board, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    node, outbox = board
    topic, reply_topic = TOPICS.node_cmd(node.node_id), TOPICS.node_reply(node.node_id)
    (tmp_path / "file.png").write_bytes(b"not a folder")

    @direct_cases(60)
    @given(case=refused_commands(node.announcer is not None, tmp_path))
    def refused(case: tuple[TechCommand, str]) -> None:
        cmd, words = case
        TALLY.count("display node/display-X/cmd, refused", "direct")
        with unchanged(node):
            call(node._on_command, incoming(topic, encode(cmd), b"r", reply_topic))
            sent = outbox.take()
            assert [s.topic for s in sent] == [reply_topic]
            reply = decode(sent[0].payload, TechReply)
            assert not reply.ok and words in reply.message, reply

    refused()
    check_still_live(node)


# --- valid but odd: the board must keep drawing ----------------------------------------------------------------

ODD_TEXT = st.one_of(
    st.text(max_size=24),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\u200b", "\u200b\u200b", "\u0301", "\t\n", "\ufeff", "\u00ad",
                     "\U0001f600", "\u202e\u05d0", "W" * 60, "漢字" * 20, "\ufffd"]),
)
NAMES = st.dictionaries(st.sampled_from(["ms", "en", "id", "xx", ""]), ODD_TEXT, max_size=3)
MOMENTS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
                       timezones=st.just(dt.UTC)) | st.sampled_from([dt.datetime(1, 1, 2, tzinfo=dt.UTC),
                                                                       dt.datetime(9999, 12, 30, tzinfo=dt.UTC)])
COUNTER_IDS = st.sampled_from([c.id for c in SITE.counters]) | st.integers(-(2**63), 2**63 - 1)
ODD_BOARDS = st.builds(
    BoardState,
    site=ODD_TEXT, site_name=NAMES, languages=st.lists(st.sampled_from(["ms", "en", "id", "xx"]), max_size=3),
    updated_at=MOMENTS,
    counters=st.lists(st.builds(CounterView, id=COUNTER_IDS, name=NAMES,
                                state=st.sampled_from(["open", "paused", "closed"]),
                                categories=st.lists(st.sampled_from(CATEGORIES) | ODD_TEXT, max_size=4),
                                serving=st.none() | ODD_TEXT), max_size=8),
    categories=st.lists(st.builds(CategoryView, id=st.sampled_from(CATEGORIES) | ODD_TEXT, prefix=ODD_TEXT,
                                  name=NAMES, waiting=st.integers(-(2**63), 2**63 - 1),
                                  est_wait_min=st.none() | st.floats(-1e300, 1e300),
                                  available=st.booleans()), max_size=8),
    calls=st.lists(st.builds(CallView, call_id=st.integers(-(2**63), 2**63 - 1), number=ODD_TEXT,
                             counter=COUNTER_IDS, category=ODD_TEXT, at=MOMENTS, recall=st.booleans()),
                   max_size=12),
)
ODD_NOTICES = st.builds(Notice, text=ODD_TEXT | st.text(min_size=400, max_size=500), until=st.none() | MOMENTS)


def test_odd_but_valid_states_never_stop_the_board_drawing(board, clock) -> None:  # type: ignore[no-untyped-def]
    node, outbox = board

    @direct_cases(60)
    @given(state=ODD_BOARDS, notice=ODD_NOTICES, online=st.booleans(), seconds=st.floats(0, 30))
    def case(state: BoardState, notice: Notice, online: bool, seconds: float) -> None:
        TALLY.count("display board + notice, odd but valid", "direct")
        call(node._on_board, incoming(TOPICS.board, encode(state)))
        call(node._on_notice, incoming(TOPICS.notice, encode(notice)))
        node._on_connection(online)
        draw(node)
        clock.advance(seconds)  # the flash and the notice's scroll move on
        draw(node)
        assert [s.topic for s in outbox.take()] == []

    case()
    node._on_connection(True)
    call(node._on_notice, incoming(TOPICS.notice, b""))
    check_still_live(node)


# --- through the broker -------------------------------------------------------------------------------------------


class Hall(OnBroker):
    """A PA board on the test broker; the kiosk's and the technician's clients send, the technician watches."""

    def __init__(self, broker: LocalBroker, clock, voices_dir: Path, wav: Path, connect) -> None:  # type: ignore[no-untyped-def]
        self.node = make_display(broker.site, "hall", broker.credentials("display-hall"), clock, voices_dir, wav)
        self.kiosk = connect("kiosk", "kiosk")
        super().__init__(connect, self.node.node_id)
        self.kiosk.publish(TOPICS.board, sample_board(), retain=True).wait(WAIT_S)
        self.tech.publish(TOPICS.notice, Notice(text="Kaunter 5 ditutup"), retain=True).wait(WAIT_S)
        self.node.start()
        self.node.mqtt.wait_connected(WAIT_S)
        self.wait(lambda: self.node.state is not None and self.node.view._notice is not None)

    def wait(self, predicate, limit: int = 250) -> None:  # type: ignore[no-untyped-def]
        """Draw frames until ``predicate()`` holds, as the main loop would; at most ``limit`` rounds of 20 ms.

        A board has no event to wait on: this polls a condition, with a bound, and asserts nothing about time.
        """
        tick = threading.Event()
        for _ in range(limit):
            draw(self.node)
            if predicate():
                return
            tick.wait(0.02)
        raise AssertionError("the board never reached the expected state")


@pytest.fixture
def hall(broker: LocalBroker, clock, voices_dir: Path, tmp_path: Path, connect,  # type: ignore[no-untyped-def]
         no_handler_failures: None) -> Iterator[Hall]:
    h = Hall(broker, clock, voices_dir, tmp_path / "wav", connect)
    try:
        yield h
    finally:
        h.node.close()
        h.tech.publish(TOPICS.notice, b"", retain=True).wait(WAIT_S)


def test_bad_input_through_the_broker(hall: Hall) -> None:
    node = hall.node

    def state_cases(state: StateTopic, n: int):  # type: ignore[no-untyped-def]
        sender = hall.tech if state.name == "notice" else hall.kiosk

        @broker_cases(n)
        @given(payload=bad_payloads(state.kind, state.bases, empty_is_bad=not state.empty_clears))
        def case(payload: bytes) -> None:
            problem = bad_case(payload, state.kind, f"display {state.name}", "broker")
            with unchanged(node):
                hall.check_bad_state(sender, state.topic, payload, problem)

        return case

    @broker_cases(300)
    @given(payload=bad_payloads(TechCommand, TECH_COMMANDS))
    def command_case(payload: bytes) -> None:
        problem = bad_case(payload, TechCommand, "display node/display-X/cmd", "broker")
        with unchanged(node):
            hall.check_bad_tech(payload, problem)

    for state, n in zip(STATE_TOPICS, (400, 300, 300), strict=True):
        state_cases(state, n)()
    command_case()

    fresh = sample_board({4: "C009", 6: "P001"}, call_ids=(9, 2, 1))
    hall.kiosk.publish(TOPICS.board, fresh, retain=True).wait(WAIT_S)
    hall.wait(lambda: node.state == fresh and node.view._model is not None and node.view._model.now is not None
              and node.view._model.now.number == "C009")
    topic, reply_topic = TOPICS.node_cmd(node.node_id), TOPICS.node_reply(node.node_id)
    assert hall.tech.request(topic, TechCommand(action="ping"), TechReply, response_topic=reply_topic).ok
    assert node.online()
