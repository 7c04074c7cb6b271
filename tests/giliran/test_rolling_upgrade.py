"""Rolling upgrades: nodes one minor version apart still work together (docs/PROTOCOL.md, Versions).

The nodes here are this version's real code; the other side speaks the
neighbouring minor on the wire, as a node built for it would: a kiosk one minor
ahead publishes fields this code has never heard of, and a counter one minor
behind sends what protocol 1.0 had. Commands from a different major, or from a
newer minor, are refused with a message that names the version.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import msgspec
import msgspec.inspect as mi
import pygame
import pytest

from counter.commands import CounterClient
from display.audio import WavRecorder
from display.node import DisplayNode
from giliran.errors import ProtocolError
from giliran.mqtt import Incoming, MqttNode
from giliran.protocol import CATALOGUE, MAJOR, MINOR, VERSION, Command, CounterReply, decode, encode, now_utc
from giliran.protocol_docs import EXAMPLES
from hardware_sim.broker import LocalBroker
from kiosk.service import LedgerService
from tests.badinput.support import spots

NEXT = f"{MAJOR}.{MINOR + 1}"


def newer(doc: dict) -> dict:  # type: ignore[type-arg]
    """``doc`` as a kiosk one minor ahead could send it: new fields at every level this code reads."""
    doc = copy.deepcopy(doc)
    doc["v"] = NEXT
    doc["clock_offset_s"] = 0.4
    for counter in doc.get("counters", []):
        counter["queue_hint"] = "short"
    for category in doc.get("categories", []):
        category["closes_at"] = "16:30"
    for call in doc.get("calls", []):
        call["lane"] = 2
    if doc.get("ticket"):
        doc["ticket"]["priority_reason"] = "OKU"
    return doc


def as_kiosk(broker: LocalBroker) -> MqttNode:
    """Publishes with the kiosk's account but its own client id, so the running kiosk is not thrown off."""
    node = MqttNode(broker.site, "kiosk", "kiosk", broker.credentials("kiosk"), ephemeral=True)
    node.start()
    node.wait_connected(5)
    return node


def board_pixels(broker: LocalBroker, clock, voices_dir: Path, wav: Path, at: float) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    """A fresh 'hall' board of this version, on whatever board state is retained: its pixels and called number."""
    pygame.display.init()
    pygame.font.init()
    cfg = broker.site.display("hall")
    node = DisplayNode(broker.site, "hall", broker.credentials("display-hall"), pygame.Surface(cfg.resolution),
                       player=WavRecorder(wav, clock), voices_dir=voices_dir, clock=clock, state_dir=wav.parent)
    node.start()
    try:
        for _ in range(400):
            node.frame()
            layout = node.view.layout
            if node.state is not None and node.state.calls and layout is not None and layout.banner is None:
                break  # the kiosk's status has arrived too: no "connection lost" banner
            pygame.time.wait(25)
        else:
            raise AssertionError("the board never showed the retained board state")
        clock.t = at  # both boards drawn at the same instant, after the new call's flash
        node.frame()
        return pygame.image.tobytes(node.surface, "RGB"), node.state.calls[0].number
    finally:
        node.close()


@pytest.mark.xfail(strict=False, reason="known defect, open in issue 10: the two boards differ in a counter tile "
                   "(pixel y=205, x=1190) on some runs; the comparison is not yet time-independent")
def test_a_board_of_this_version_renders_a_newer_kiosks_board_state(  # type: ignore[no-untyped-def]
        kiosk: LedgerService, broker, clock, voices_dir, tmp_path, connect, recorder) -> None:
    tech = connect("technician", "technician")
    boards = recorder()
    tech.subscribe(tech.topics.board, boards)
    kiosk.ledger.confirm(kiosk.ledger.reserve("mykad").id)
    called = kiosk.ledger.next(2).number
    kiosk.changed()
    ours = boards.wait_for(lambda m: m.payload and json.loads(m.payload)["calls"]).payload
    assert json.loads(ours)["v"] == VERSION
    at = clock() + broker.site.display("hall").flash_s + 1
    reference, number = board_pixels(broker, clock, voices_dir, tmp_path / "wav1", at)
    assert number == called

    publisher = as_kiosk(broker)
    try:
        publisher.publish(publisher.topics.board, json.dumps(newer(json.loads(ours))).encode(), retain=True).wait(5)
    finally:
        publisher.stop()
    shown, number = board_pixels(broker, clock, voices_dir, tmp_path / "wav2", at)
    assert number == called
    assert shown == reference  # the same board, pixel for pixel: the new fields are simply not used


def test_a_counter_of_this_version_understands_a_newer_kiosks_reply(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reply = {"v": NEXT, "ok": True, "counter": 3, "action": "next", "waiting": 4, "queue_eta_s": 90,
             "ticket": {"number": "A012", "category": "mykad", "state": "called",
                        "issued_at": "2026-11-24T01:00:00+00:00", "ahead": 0, "lane": 2}}
    # A broker of its own: the real kiosk's persistent session elsewhere would keep this command for later.
    with LocalBroker(site, tmp_path / "broker") as own:
        newer_kiosk = MqttNode(own.site, "kiosk", "kiosk", own.credentials("kiosk"), ephemeral=True)

        def answer(msg: Incoming) -> None:
            newer_kiosk.publish(msg.response_topic or newer_kiosk.topics.counter_reply(3),
                                json.dumps(reply).encode(), correlation_data=msg.correlation_data)

        newer_kiosk.subscribe(newer_kiosk.topics.counter_cmd(3), answer)  # made on connect, before "connected"
        counter = MqttNode(own.site, "counter-3", "counter", own.credentials("counter-3"))
        try:
            for node in (newer_kiosk, counter):
                node.start()
                node.wait_connected(5)
            got = CounterClient(own.site, 3, None, node=counter).command("next")
        finally:
            counter.stop()
            newer_kiosk.stop()
    assert got.ok and got.ticket is not None and got.ticket.number == "A012" and got.waiting == 4


@pytest.mark.parametrize("v", [1, "1.0", VERSION])
def test_a_counter_of_an_older_minor_is_still_served(kiosk: LedgerService, connect, recorder, v) -> None:  # type: ignore[no-untyped-def]
    number = kiosk.ledger.confirm(kiosk.ledger.reserve("mykad").id).number
    counter = connect("counter-3", "counter")
    replies = recorder()
    counter.subscribe(counter.topics.counter_reply(3), replies)
    command = {"v": v, "action": "next", "sent_at": now_utc().isoformat()}
    counter.publish(counter.topics.counter_cmd(3), json.dumps(command).encode(), expiry_s=10,
                    response_topic=counter.topics.counter_reply(3), correlation_data=b"old").wait(5)
    reply = decode(replies.wait_for(lambda m: m.correlation_data == b"old").payload, CounterReply)
    assert reply.ok and reply.ticket is not None and reply.ticket.number == number


@pytest.mark.parametrize(("v", "problem"), [
    ("2.0", f"protocol version 2.0 is not spoken here; this node speaks {VERSION}"),
    (2, f"protocol version 2 is not spoken here; this node speaks {VERSION}"),
    (NEXT, f"protocol version {NEXT} is newer than this node's {VERSION}"),
])
def test_a_command_of_another_major_or_a_newer_minor_is_refused_naming_the_version(  # type: ignore[no-untyped-def]
        kiosk: LedgerService, connect, recorder, v, problem: str) -> None:
    kiosk.ledger.confirm(kiosk.ledger.reserve("mykad").id)
    before = len(kiosk.ledger.events())
    counter = connect("counter-3", "counter")
    replies = recorder()
    counter.subscribe(counter.topics.counter_reply(3), replies)
    command = {"v": v, "action": "next", "sent_at": now_utc().isoformat()}
    counter.publish(counter.topics.counter_cmd(3), json.dumps(command).encode(), expiry_s=10,
                    response_topic=counter.topics.counter_reply(3), correlation_data=b"new").wait(5)
    reply = decode(replies.wait_for(lambda m: m.correlation_data == b"new").payload, CounterReply)
    assert not reply.ok and reply.error is not None and reply.error.code == "bad_payload"
    assert problem in reply.error.message
    assert len(kiosk.ledger.events()) == before  # nothing called


def test_a_newer_command_with_a_field_this_kiosk_does_not_know_is_refused(kiosk: LedgerService, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    counter = connect("counter-3", "counter")
    replies = recorder()
    counter.subscribe(counter.topics.counter_reply(3), replies)
    command = {"v": VERSION, "action": "next", "sent_at": now_utc().isoformat(), "skip_priority": True}
    counter.publish(counter.topics.counter_cmd(3), json.dumps(command).encode(), expiry_s=10,
                    response_topic=counter.topics.counter_reply(3), correlation_data=b"x").wait(5)
    reply = decode(replies.wait_for(lambda m: m.correlation_data == b"x").payload, CounterReply)
    assert not reply.ok and reply.error is not None and "unknown field `skip_priority`" in reply.error.message


def with_unknown_fields(doc: dict, kind: type[msgspec.Struct]) -> dict:  # type: ignore[type-arg]
    """``doc`` with a field nobody knows added to every struct in it (free dicts, like names, stay as they are)."""
    doc = copy.deepcopy(doc)
    for spot in [s for s in spots(doc, mi.type_info(kind)) if isinstance(s.type, mi.StructType)]:
        target = doc
        for step in spot.path:
            target = target[step]
        target[f"added_{len(spot.path)}"] = [1, {"x": None}]
    return doc


@pytest.mark.parametrize(("pattern", "kind"), [(pattern, kind) for pattern, kind, _ in CATALOGUE])
def test_state_events_and_replies_are_read_tolerantly_and_commands_strictly(pattern: str, kind: type) -> None:
    """Every payload type: new fields at every level and a newer minor are ignored by readers of state,
    events and replies, and refused in commands (naming the field or the version)."""
    base = json.loads(encode(EXAMPLES[pattern]))
    added = {**with_unknown_fields(base, kind), "v": NEXT}
    if issubclass(kind, Command):
        with pytest.raises(ProtocolError, match="unknown field `added_0`"):
            decode(json.dumps({**added, "v": VERSION}).encode(), kind)
        with pytest.raises(ProtocolError, match=f"protocol version {NEXT} is newer than this node's {VERSION}"):
            decode(json.dumps({**base, "v": NEXT}).encode(), kind)
    else:
        assert decode(json.dumps(added).encode(), kind) == msgspec.structs.replace(EXAMPLES[pattern], v=NEXT)
