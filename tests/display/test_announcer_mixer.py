"""The real PA path: pygame.mixer plays the one concatenated clip, bit for bit.

SDL's disk audio driver writes the mixer's output to a file; with
SDL_DISKAUDIODELAY=1 it runs about twenty times faster than real time, so two
announcements take well under a second.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from display.announcer import Announcer, Timing, compose
from display.audio import MixerPlayer
from display.voice_pack import load_voices
from giliran.protocol import CallView

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def call(call_id: int, number: str, counter: int) -> CallView:
    return CallView(call_id=call_id, number=number, counter=counter, category="mykad", at=T0)


def test_the_mixer_plays_each_announcement_whole_and_in_turn(
    voices_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, voice_samples: type
) -> None:
    import pygame

    out = tmp_path / "pa.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(out))
    monkeypatch.setenv("SDL_DISKAUDIODELAY", "1")
    pygame.mixer.quit()  # another test may have opened it on the dummy driver
    packs = load_voices(voices_dir, ["ms", "en"])
    player = MixerPlayer(packs[0].rate)
    announcer = Announcer(packs, player, volume=1.0)
    try:
        announcer.on_board([])
        announcer.on_board([call(1, "A102", 3), call(2, "B015", 4)])
        assert player.busy() and announcer.pending == 1
        deadline = time.monotonic() + 10
        while (announcer.pending or player.busy()) and time.monotonic() < deadline:
            announcer.tick()
            time.sleep(0.005)  # real audio hardware: poll the channel
        assert announcer.announced == 2
    finally:
        announcer.close()
    data = out.read_bytes()
    # The silence after each call is left out: SDL writes silence there anyway.
    untailed = Timing(after_call_s=0)
    voice_samples.assert_pieces(data, [compose("A102", 3, packs, untailed).pcm(),
                                       compose("B015", 4, packs, untailed).pcm()])
