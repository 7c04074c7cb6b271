"""The display node over a real Mosquitto: pixels after a call, the offline banner, the PA in WAV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from display.audio import WavRecorder
from display.board import BoardView
from display.layout import now_parts
from display.node import DisplayNode
from giliran.ledger import Ledger
from giliran.protocol import BoardState, Notice, TechCommand, TechReply, decode
from hardware_sim.broker import LocalBroker
from kiosk.service import LedgerService


@pytest.fixture
def broker(site, tmp_path: Path) -> Iterator[LocalBroker]:  # type: ignore[no-untyped-def]
    """A broker per test: boards keep persistent sessions, and each test's ledger starts its call ids afresh."""
    with LocalBroker(site, tmp_path / "broker") as local:
        yield local


class Kiosk:
    def __init__(self, broker: LocalBroker, path: Path, clock, connect) -> None:  # type: ignore[no-untyped-def]
        self.ledger = Ledger(path, broker.site, clock)
        self.service = LedgerService(self.ledger, connect("kiosk", "kiosk"))

    def issue_and_call(self, category: str, counter: int) -> str:
        self.ledger.confirm(self.ledger.reserve(category).id)
        number = self.ledger.next(counter).number
        self.service.changed()
        return number

    def close(self) -> None:
        self.service.close()
        self.ledger.close()


@pytest.fixture
def kiosk(broker, tmp_path: Path, clock, connect) -> Iterator[Kiosk]:  # type: ignore[no-untyped-def]
    k = Kiosk(broker, tmp_path / "ledger.sqlite", clock, connect)
    try:
        yield k
    finally:
        k.close()


def start_display(broker: LocalBroker, display_id: str, clock, voices_dir: Path, wav_dir: Path) -> DisplayNode:  # type: ignore[no-untyped-def]
    pygame.display.init()
    pygame.font.init()
    cfg = broker.site.display(display_id)
    node = DisplayNode(broker.site, display_id, broker.credentials(f"display-{display_id}"),
                       pygame.Surface(cfg.resolution), player=WavRecorder(wav_dir, clock), voices_dir=voices_dir,
                       clock=clock, state_dir=wav_dir.parent)
    node.start()
    node.mqtt.wait_connected(5)
    return node


def wait_frames(node: DisplayNode, predicate, limit: int = 200) -> None:  # type: ignore[no-untyped-def]
    """Render frames until ``predicate()`` holds; each frame waits for MQTT a little."""
    import time

    for _ in range(limit):
        node.frame()
        if predicate():
            return
        time.sleep(0.025)
    raise AssertionError("the board never reached the expected state")


def now_number_pixels(view: BoardView, surface: pygame.Surface) -> bytes:
    assert view.layout is not None
    rect = now_parts(view.layout.now, view.layout.unit).number
    return pygame.image.tobytes(surface.subsurface(rect), "RGB")


@pytest.mark.parametrize("display_id", ["hall", "entrance", "lobby"])
def test_a_call_appears_in_the_now_calling_panel(kiosk, broker, clock, voices_dir, tmp_path, display_id, connect) -> None:  # type: ignore[no-untyped-def]
    node = start_display(broker, display_id, clock, voices_dir, tmp_path / "wav")
    try:
        seen: list[BoardState] = []
        tech = connect("technician", "technician")
        tech.subscribe(tech.topics.board, lambda m: seen.append(decode(m.payload, BoardState)))
        number = kiosk.issue_and_call("birth", 4)  # counter 4 is in every board's zone
        wait_frames(node, lambda: any(s.calls and s.calls[0].number == number for s in seen))
        node.frame()
        clock.advance(node.config.flash_s + 1)  # compare the steady panel, after the flash
        node.frame()

        def reference(shown: str) -> bytes:
            state = seen[-1]
            call = state.calls[0]
            fake = type(call)(call_id=call.call_id, number=shown, counter=call.counter, category=call.category,
                              at=call.at)
            surface = pygame.Surface(node.config.resolution)
            view = BoardView(node.config, broker.site, surface, clock=clock)
            view.update_state(type(state)(**{**{f: getattr(state, f) for f in state.__struct_fields__},
                                            "calls": [fake, *state.calls[1:]]}))
            view.set_connection(True)
            view.render(now=clock() + node.config.flash_s + 1)
            return now_number_pixels(view, surface)

        shown = now_number_pixels(node.view, node.surface)
        assert shown == reference(number)
        assert shown != reference("B002")
    finally:
        node.close()


def test_the_pa_announces_a_call_once_and_a_restarted_board_stays_quiet(kiosk, broker, clock, voices_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    wav = tmp_path / "wav"
    node = start_display(broker, "hall", clock, voices_dir, wav)
    recorder: WavRecorder = node.announcer._player  # type: ignore[union-attr, assignment]
    try:
        wait_frames(node, lambda: node.state is not None and not node.state.calls)
        kiosk.issue_and_call("mykad", 2)
        wait_frames(node, lambda: len(recorder.recordings()) == 1)
        assert "A001" in recorder.recordings()[0].path.name
    finally:
        node.close()
    again = start_display(broker, "hall", clock, voices_dir, tmp_path / "wav2")
    try:
        wait_frames(again, lambda: again.view.layout is not None and again.announcer.announced == 0)  # type: ignore[union-attr]
        for _ in range(10):
            again.frame()
        assert again.announcer._player.recordings() == []  # type: ignore[union-attr]
    finally:
        again.close()


def test_volume_and_snapshot_commands(kiosk, broker, clock, voices_dir, tmp_path, connect) -> None:  # type: ignore[no-untyped-def]
    node = start_display(broker, "hall", clock, voices_dir, tmp_path / "wav")
    try:
        tech = connect("technician", "technician")
        topic, reply_topic = tech.topics.node_cmd("display-hall"), tech.topics.node_reply("display-hall")
        reply = tech.request(topic, TechCommand(action="volume", volume=0.3), TechReply, response_topic=reply_topic)
        assert reply.ok and node.announcer.volume == pytest.approx(0.3)  # type: ignore[union-attr]
        wait_frames(node, lambda: node.view.layout is not None)
        path = tmp_path / "hall.png"
        reply = tech.request(topic, TechCommand(action="snapshot", path=str(path)), TechReply,
                             response_topic=reply_topic)
        assert reply.ok and pygame.image.load(str(path)).get_size() == (1920, 1080)
        # Only under the node's state folder: the command comes over the network, the board may write there.
        outside = tmp_path.parent / f"{tmp_path.name}-outside"
        outside.mkdir()
        for bad, why in [(str(outside / "x.png"), "snapshots go under"), ("../x.png", "snapshots go under"),
                         (f"../{outside.name}/x.png", "snapshots go under"), ("hall.txt", "must end in .png"),
                         ("new-folder/x.png", "no folder")]:
            reply = tech.request(topic, TechCommand(action="snapshot", path=bad), TechReply,
                                 response_topic=reply_topic)
            assert not reply.ok and why in reply.message, (bad, reply.message)
        assert list(outside.iterdir()) == [] and not (tmp_path / "new-folder").exists()
        (tmp_path / "link").symlink_to(outside)
        reply = tech.request(topic, TechCommand(action="snapshot", path="link/x.png"), TechReply,
                             response_topic=reply_topic)
        assert not reply.ok and list(outside.iterdir()) == []
        tech.publish(tech.topics.notice, Notice(text="Kaunter 5 ditutup"), retain=True).wait(5)
        wait_frames(node, lambda: node.view.layout is not None and node.view.layout.notice is not None)
    finally:
        tech.publish(tech.topics.notice, b"", retain=True).wait(5)
        node.close()


def test_offline_banner_when_the_broker_stops_and_gone_when_it_returns(site, clock, voices_dir, tmp_path, connect) -> None:  # type: ignore[no-untyped-def]
    own = LocalBroker(site, tmp_path / "own-broker")
    own.start()
    try:
        node = start_display(own, "lobby", clock, voices_dir, tmp_path / "wav")
        try:
            wait_frames(node, lambda: node.view.layout is not None and node.view.layout.banner is None)
            own.stop()
            wait_frames(node, lambda: node.view.layout.banner is not None)  # type: ignore[union-attr]
            own.start()
            wait_frames(node, lambda: node.view.layout.banner is None, limit=600)  # type: ignore[union-attr]
        finally:
            node.close()
    finally:
        own.stop()
