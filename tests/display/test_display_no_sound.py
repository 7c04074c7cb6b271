"""A PA board with no sound device still shows the board, says so, and retries.

The mixer is the real pygame.mixer: SDL is given an audio driver that does not
exist (as a board with no sound card, where SDL's alsa driver fails to open),
then its disk driver (the device appears), whose file holds what was played.
The sound-server version of this, through ALSA and PulseAudio, is in
tests/platform/test_sound_server.py.
"""

from __future__ import annotations

import time

import pygame
import pytest

from display.announcer import Timing, compose
from display.node import DisplayNode
from display.pa_device import RETRY_S
from display.voice_pack import load_voices
from giliran.ledger import Ledger
from giliran.protocol import ErrorEvent, NodeStatus, decode
from kiosk.service import LedgerService


def test_no_sound_device_shows_the_board_reports_it_and_retries(  # type: ignore[no-untyped-def]
    broker, clock, voices_dir, tmp_path, connect, recorder, monkeypatch: pytest.MonkeyPatch, voice_samples
) -> None:
    tech = connect("technician", "technician")
    statuses, events = recorder(), recorder()
    tech.subscribe(tech.topics.status("display-hall"), statuses)
    tech.subscribe(tech.topics.event("error"), events)
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-sound-card")
    pygame.mixer.quit()  # another test may have opened it on the dummy driver
    pygame.display.init()
    pygame.font.init()
    surface = pygame.Surface((1280, 720))
    node = DisplayNode(broker.site, "hall", broker.credentials("display-hall"), surface,
                       voices_dir=voices_dir, clock=clock)
    ledger = Ledger(tmp_path / "ledger.sqlite", broker.site, clock)
    kiosk = LedgerService(ledger, connect("kiosk", "kiosk"))
    try:
        node.start()
        node.mqtt.wait_connected(5)
        status = statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("pa") == "no sound device")
        assert decode(status.payload, NodeStatus).state == "online"
        event = decode(events.wait_for(lambda m: b"no_sound_device" in m.payload).payload, ErrorEvent)
        assert event.node == "display-hall" and event.message.startswith("pa: no sound device")
        kiosk.changed()
        deadline = time.monotonic() + 5
        while node.state is None and time.monotonic() < deadline:
            node.frame()
            time.sleep(0.01)
        node.frame()
        assert node.view.layout is not None and node.state is not None  # the board is up
        # A call while there is no device: not queued for later (it would be spoken late).
        ledger.confirm(ledger.reserve("mykad").id)
        ledger.next(2)
        kiosk.changed()
        while node.pa is not None and node.pa.dropped == 0 and time.monotonic() < deadline:
            node.frame()
            time.sleep(0.01)
        assert node.pa is not None and node.pa.dropped == 1

        # The device appears; the board opens it at the next retry, not before.
        out = tmp_path / "pa.raw"
        monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
        monkeypatch.setenv("SDL_DISKAUDIOFILE", str(out))
        monkeypatch.setenv("SDL_DISKAUDIODELAY", "1")
        node.frame()
        assert node.pa.missing is not None
        clock.advance(RETRY_S)
        node.frame()
        assert node.pa.missing is None
        statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("pa") == "ok")
        assert node.announcer is not None
        node.announcer.set_volume(1.0)  # full scale, so the samples are the clip's own
        ledger.confirm(ledger.reserve("birth").id)
        number = ledger.next(4).number
        kiosk.changed()
        deadline = time.monotonic() + 10
        while (node.announcer is not None and node.announcer.announced < 2) and time.monotonic() < deadline:  # 1: dropped
            node.frame()
            time.sleep(0.01)
        while node.pa.busy() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        kiosk.close()
        ledger.close()
        node.close()
    packs = load_voices(voices_dir, broker.site.site.languages)
    voice_samples.assert_pieces(out.read_bytes(), [compose(number, 4, packs, Timing(after_call_s=0)).pcm()])
