"""The PA through a real sound server, as the systemd unit plays it: SDL alsa → ALSA pulse plugin → PulseAudio.

The real ``giliran display`` process starts with no sound server to reach (a
board with no sound device): it must show the board, say ``pa: no sound
device`` in its status and an error event, and keep trying. A PulseAudio
with a null sink then appears; the board opens it, and a call's announcement,
recorded with parec from the sink's monitor, is the announcement clip sample
for sample, played at real-time pace. About 15 s, most of it the clip playing.

With the mixer's old 1024-sample buffer (46 ms) the stream underran on this
loaded 2-core machine and the recording had stutters in it: the comparison is
strict, so the PA's buffer (4096 samples) is part of what this proves.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from display.announcer import Timing, compose
from display.sample import sample_board, with_call
from display.voice_pack import load_voices
from giliran.protocol import ErrorEvent, NodeStatus, TechCommand, TechReply, decode
from hardware_sim.sound_server import NullSinkServer, missing_parts

pytestmark = pytest.mark.platform

SAMPLE_AT = dt.datetime(2026, 11, 24, 10, 24, 37, tzinfo=dt.UTC)
def test_the_pa_through_a_sound_server_and_without_one(  # type: ignore[no-untyped-def]
    start_board, connect, recorder, broker, voices_dir: Path, tmp_path: Path
) -> None:
    missing = missing_parts()
    if missing:
        pytest.skip(f"no {', '.join(missing)} here (./dev setup installs them)")
    packs = load_voices(voices_dir, broker.site.site.languages)
    server = NullSinkServer(tmp_path / "pulse", rate=packs[0].rate)
    kiosk = connect("kiosk", "kiosk")
    state = sample_board(broker.site, SAMPLE_AT)
    kiosk.publish(kiosk.topics.board, state, retain=True).wait(5)
    tech = connect("technician", "technician")
    statuses, events = recorder(), recorder()
    tech.subscribe(tech.topics.status("display-hall"), statuses)
    tech.subscribe(tech.topics.event("error"), events)
    board = start_board("hall", {**server.client_env(), "SDL_AUDIODRIVER": "alsa", "SDL_VIDEODRIVER": "dummy",
                                 "GILIRAN_PA_RETRY_S": "0.5"})
    try:
        # No sound server: the board runs and says so.
        statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("pa") == "no sound device",
                          timeout=20)
        event = decode(events.wait_for(lambda m: b"no_sound_device" in m.payload).payload, ErrorEvent)
        assert event.node == "display-hall" and event.message.startswith("pa: no sound device")
        reply = tech.request(tech.topics.node_cmd("display-hall"), TechCommand(action="snapshot",
                             path=str(tmp_path / "board.png")), TechReply,
                             response_topic=tech.topics.node_reply("display-hall"))
        assert reply.ok and (tmp_path / "board.png").stat().st_size > 0
        assert board.proc.poll() is None, board.output()

        with server, server.record(tmp_path / "pa.raw") as recording:
            recording_from = time.monotonic()
            statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("pa") == "ok", timeout=10)
            reply = tech.request(tech.topics.node_cmd("display-hall"), TechCommand(action="volume", volume=1.0),
                                 TechReply, response_topic=tech.topics.node_reply("display-hall"))
            assert reply.ok  # full scale: the samples played are the clip's own
            clip = compose("A102", 3, packs, Timing(after_call_s=0))
            expected = clip.pcm()
            called = time.monotonic()
            kiosk.publish(kiosk.topics.board, with_call(state, "A102", 3, SAMPLE_AT), retain=True).wait(5)
            at = -1
            while at == -1 and time.monotonic() - called < clip.seconds + 10:
                time.sleep(0.25)
                data = recording.read_bytes()
                at = data.find(expected)
                while at != -1 and at % 2:
                    at = data.find(expected, at + 1)
            heard_after = time.monotonic() - called
            recorded_for = time.monotonic() - recording_from
        assert at != -1, f"the announcement, sample for sample, is not in the recording ({tmp_path / 'pa.raw'})"
        # Real time: the null sink consumes audio as a sound card does, so the recording
        # lasts as long as it ran (ALSA's null or file outputs would take it at once), and
        # the whole clip is heard no sooner than its own length after the call.
        assert 0.8 * recorded_for <= len(data) / 2 / server.rate <= recorded_for + 0.5, (len(data), recorded_for)
        assert heard_after >= clip.seconds, (heard_after, clip.seconds)
    finally:
        kiosk.publish(kiosk.topics.board, b"", retain=True).wait(5)
        board.stop()
