"""The PA announcer: which calls are new, and what comes out of the speaker, sample by sample."""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

from display.announcer import Announcer, Seen, compose, new_calls
from display.audio import WavRecorder
from display.voice_pack import load_voices
from giliran.errors import AudioError
from giliran.protocol import CallView

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def call(call_id: int, number: str = "A102", counter: int = 3, recall: bool = False) -> CallView:
    return CallView(call_id=call_id, number=number, counter=counter, category="mykad",
                    at=T0 + dt.timedelta(seconds=call_id), recall=recall)


# --- which calls are new: a pure function ----------------------------------------------


def test_the_first_board_state_after_start_is_already_announced() -> None:
    fresh, seen = new_calls([call(7), call(5), call(6)], None)
    assert fresh == []
    assert seen == Seen(7)


def test_an_empty_first_state_then_a_call() -> None:
    fresh, seen = new_calls([], None)
    assert (fresh, seen) == ([], Seen(0))
    assert new_calls([call(1)], seen)[0] == [call(1)]


def test_calls_above_the_mark_are_new_oldest_first_and_repeats_are_not() -> None:
    seen = Seen(5)
    fresh, seen = new_calls([call(7, "B001", 4), call(4), call(6), call(5)], seen)
    assert [c.call_id for c in fresh] == [6, 7]
    assert new_calls([call(7), call(6)], seen) == ([], Seen(7))


def test_a_recall_has_a_new_call_id_and_is_new() -> None:
    fresh, _ = new_calls([call(8, "A102", 3, recall=True), call(7, "A102", 3)], Seen(7))
    assert fresh == [call(8, "A102", 3, recall=True)]


def test_old_calls_dropping_off_the_board_change_nothing() -> None:
    assert new_calls([], Seen(9)) == ([], Seen(9))


def test_numbering_that_starts_again_is_a_new_baseline() -> None:
    assert new_calls([call(2), call(1)], Seen(900)) == ([], Seen(2))
    assert new_calls([call(3), call(2)], Seen(2))[0] == [call(3)]


# --- announcements through the WAV recorder -------------------------------------------


@pytest.fixture
def recorder(tmp_path: Path, clock) -> Iterator[WavRecorder]:  # type: ignore[no-untyped-def]
    rec = WavRecorder(tmp_path / "pa", clock)
    try:
        yield rec
    finally:
        rec.close()


def clips(vs: type, langs: list[str]) -> dict[str, list[str]]:
    return {lang: vs.sentence_clips(vs.SENTENCES[lang]) for lang in langs}


def test_a_call_is_the_chime_then_each_language_in_turn(
    voices_dir: Path, recorder: WavRecorder, voice_samples: type
) -> None:
    announcer = Announcer(load_voices(voices_dir, ["ms", "en", "id"]), recorder, volume=1.0)
    announcer.on_board([])
    assert announcer.on_board([call(1)]) == [call(1)]
    [rec] = recorder.recordings()
    assert rec.path.name == "0001-A102-counter3.wav"
    voice_samples.assert_pieces(
        voice_samples.pcm(rec.path),
        voice_samples.call_pieces(voices_dir, clips(voice_samples, ["ms", "en", "id"])),
    )
    assert 12 < rec.seconds < 25


def test_a_wrong_digit_fails_the_sample_check(
    voices_dir: Path, recorder: WavRecorder, voice_samples: type
) -> None:
    announcer = Announcer(load_voices(voices_dir, ["en"]), recorder, volume=1.0)
    announcer.on_board([])
    announcer.on_board([call(1, "A103")])
    wrong = clips(voice_samples, ["en"])
    with pytest.raises(AssertionError, match="not found|no expected clip"):
        voice_samples.assert_pieces(voice_samples.pcm(recorder.recordings()[0].path),
                                    voice_samples.call_pieces(voices_dir, wrong))


def test_recall_is_announced_again_restart_is_not(
    voices_dir: Path, recorder: WavRecorder, voice_samples: type, clock
) -> None:  # type: ignore[no-untyped-def]
    packs = load_voices(voices_dir, ["ms", "en"])
    expected = voice_samples.call_pieces(voices_dir, clips(voice_samples, ["ms", "en"]))
    announcer = Announcer(packs, recorder, volume=1.0)
    announcer.on_board([])
    announcer.on_board([call(1)])
    clock.advance(60)
    announcer.on_board([call(1)])  # the same state again: a repeat, not a call
    announcer.on_board([call(2, recall=True), call(1)])
    first, again = recorder.recordings()
    assert again.label == "A102-counter3-recall"
    for rec in (first, again):
        voice_samples.assert_pieces(voice_samples.pcm(rec.path), expected)

    # The board restarts: its first state holds both calls; nothing is said.
    clock.advance(60)
    restarted = Announcer(packs, recorder, volume=1.0)
    assert restarted.on_board([call(2, recall=True), call(1)]) == []
    assert len(recorder.recordings()) == 2
    restarted.on_board([call(3, "K007", 6), call(2, recall=True)])
    assert recorder.recordings()[-1].label == "K007-counter6"


def test_two_calls_at_once_are_both_announced_in_order_without_overlap(
    voices_dir: Path, recorder: WavRecorder, voice_samples: type, clock
) -> None:  # type: ignore[no-untyped-def]
    announcer = Announcer(load_voices(voices_dir, ["ms", "en"]), recorder, volume=1.0)
    announcer.on_board([call(4, "P001", 1)])
    queued = announcer.on_board([call(6, "B015", 4), call(5, "A102", 3), call(4, "P001", 1)])
    assert [c.call_id for c in queued] == [5, 6]
    [first] = recorder.recordings()
    assert announcer.pending == 1
    clock.advance(first.seconds - 0.01)
    announcer.tick()
    assert len(recorder.recordings()) == 1, "the second call must wait for the first"
    clock.advance(0.01)
    announcer.tick()
    assert announcer.pending == 0
    first, second = recorder.recordings()
    assert second.started_at >= first.ended_at
    voice_samples.assert_pieces(
        voice_samples.pcm(first.path),
        voice_samples.call_pieces(voices_dir, clips(voice_samples, ["ms", "en"])),
    )
    voice_samples.assert_pieces(
        voice_samples.pcm(second.path),
        voice_samples.call_pieces(voices_dir, {
            "ms": voice_samples.sentence_clips(
                "Nombor giliran B kosong satu lima, sila ke kaunter empat"),
            "en": voice_samples.sentence_clips(
                "Number B zero one five, please go to counter four"),
        }),
    )


def test_a_recorder_refuses_to_overlap(voices_dir: Path, recorder: WavRecorder) -> None:
    clip = compose("A102", 3, load_voices(voices_dir, ["en"]))
    recorder.play(clip, "one")
    with pytest.raises(AudioError, match="still playing"):
        recorder.play(clip, "two")


def test_volume_scales_the_samples(voices_dir: Path, tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    packs = load_voices(voices_dir, ["ms"])
    loud, quiet = WavRecorder(tmp_path / "loud", clock), WavRecorder(tmp_path / "quiet", clock)
    full = Announcer(packs, loud, volume=1.0)
    turned_down = Announcer(packs, quiet, volume=0.8)
    turned_down.set_volume(0.5)  # the technician's volume command
    for announcer in (full, turned_down):
        announcer.on_board([])
        announcer.on_board([call(1)])
    a = array("h", _frames(loud.recordings()[0].path))
    b = array("h", _frames(quiet.recordings()[0].path))
    assert len(a) == len(b)
    assert max(abs(y - x * 0.5) for x, y in zip(a, b, strict=True)) <= 0.5
    assert max(map(abs, b)) == pytest.approx(max(map(abs, a)) / 2, abs=1)
    assert quiet.recordings()[0].volume == 0.5


def test_volume_out_of_range_is_refused(voices_dir: Path, recorder: WavRecorder) -> None:
    announcer = Announcer(load_voices(voices_dir, ["ms"]), recorder, volume=0.8)
    with pytest.raises(ValueError, match="volume 1.5"):
        announcer.set_volume(1.5)
    assert announcer.volume == 0.8


def test_digits_and_number_rules_say_different_clips(
    voices_dir: Path, number_voices_dir: Path, recorder: WavRecorder, voice_samples: type,
    clock,
) -> None:  # type: ignore[no-untyped-def]
    announcer = Announcer(load_voices(number_voices_dir, ["ms", "en"]), recorder, volume=1.0)
    announcer.on_board([])
    announcer.on_board([call(1, "A102", 12)])
    voice_samples.assert_pieces(
        voice_samples.pcm(recorder.recordings()[0].path),
        voice_samples.call_pieces(number_voices_dir, {
            "ms": voice_samples.sentence_clips(
                "Nombor giliran A seratus dua, sila ke kaunter dua belas"),
            "en": voice_samples.sentence_clips(
                "Number A one hundred and two, please go to counter twelve"),
        }),
    )
    digits = compose("A102", 12, load_voices(voices_dir, ["ms", "en"]))
    assert digits.pcm() != voice_samples.pcm(recorder.recordings()[0].path)


def test_a_zone_hears_only_its_counters(voices_dir: Path, recorder: WavRecorder) -> None:
    announcer = Announcer(load_voices(voices_dir, ["ms"]), recorder, counters=[4, 5, 6])
    announcer.on_board([])
    assert announcer.on_board([call(1, counter=3), call(2, "B001", 5)]) == [call(2, "B001", 5)]
    assert [r.label for r in recorder.recordings()] == ["B001-counter5"]


def test_a_call_that_cannot_be_said_is_logged_and_the_rest_are_announced(
    voices_dir: Path, tmp_path: Path, recorder: WavRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    packs = load_voices(voices_dir, ["en"], letters="A")  # a pack with only letter A
    announcer = Announcer(packs, recorder)
    announcer.on_board([])
    assert announcer.on_board([call(1, "Z001"), call(2, "A002")]) == [call(2, "A002")]
    assert "cannot announce Z001-counter3" in caplog.text
    assert "letter_z.wav" in caplog.text
    assert [r.label for r in recorder.recordings()] == ["A002-counter3"]


def _frames(path: Path) -> bytes:
    import wave

    with wave.open(str(path), "rb") as f:
        return f.readframes(f.getnframes())


# --- a backlog: the PA keeps up -------------------------------------------------------------

SIX_AT_ONCE = [call(10 + i, f"{p}{n:03d}", i + 1) for i, (p, n) in enumerate(
    [("A", 102), ("B", 15), ("P", 1), ("C", 7), ("K", 20), ("D", 3)])]
#: docs/VOICES.md states it: with the ms + en espeak-ng packs, the sixth of six calls at once starts
#: within this (measured 35.9 s; 64.7 s when every call was said in full).
SIX_CALLS_BOUND_S = 40.0


def run_pa(announcer: Announcer, clock, seconds: float, step: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    """The display's main loop ticking the announcer for ``seconds`` on the injected clock."""
    for _ in range(round(seconds / step)):
        clock.advance(step)
        announcer.tick()


def test_six_calls_at_once_are_all_announced_and_the_last_within_the_bound(
    voices_dir: Path, recorder: WavRecorder, voice_samples: type, clock
) -> None:  # type: ignore[no-untyped-def]
    announcer = Announcer(load_voices(voices_dir, ["ms", "en"]), recorder, volume=1.0)
    announcer.on_board([])
    start = clock()
    announcer.on_board(SIX_AT_ONCE)
    run_pa(announcer, clock, 120)
    recs = recorder.recordings()
    assert [r.label for r in recs] == [f"{c.number}-counter{c.counter}" for c in SIX_AT_ONCE]
    assert recs[-1].started_at - start <= SIX_CALLS_BOUND_S
    assert all(b.started_at >= a.ended_at for a, b in zip(recs, recs[1:], strict=False)), "no overlap"
    # Short form, still in every language: "A102, kaunter satu", "A102, counter one"; one chime for the run.
    ms = ["letter_a", "satu", "kosong", "dua", "kaunter", "satu"]
    en = ["letter_a", "one", "zero", "two", "counter", "one"]
    voice_samples.assert_pieces(voice_samples.pcm(recs[0].path),
                                voice_samples.call_pieces(voices_dir, {"ms": ms, "en": en}))
    second = voice_samples.pcm(recs[1].path)
    assert second.find(voice_samples.pcm(voices_dir / "ms" / "chime.wav")) == -1
    # Caught up: the next call is said in full again.
    clock.advance(30)
    announcer.on_board([call(16, "A103", 2), *SIX_AT_ONCE])
    run_pa(announcer, clock, 30)
    full = {"ms": voice_samples.sentence_clips(voice_samples.SENTENCES["ms"].replace("dua, sila ke kaunter tiga",
                                                                                     "tiga, sila ke kaunter dua")),
            "en": voice_samples.sentence_clips(voice_samples.SENTENCES["en"].replace("two, please go to counter three",
                                                                                     "three, please go to counter two"))}
    voice_samples.assert_pieces(voice_samples.pcm(recorder.recordings()[-1].path),
                                voice_samples.call_pieces(voices_dir, full))


def test_a_call_superseded_or_too_late_is_dropped_not_said(voices_dir: Path, recorder: WavRecorder, clock) -> None:  # type: ignore[no-untyped-def]
    announcer = Announcer(load_voices(voices_dir, ["ms", "en"]), recorder, volume=1.0, clock=clock)
    announcer.on_board([])
    announcer.on_board([call(1, "A101", 1)])  # playing now
    announcer.on_board([call(2, "A102", 3), call(3, "B015", 4), call(4, "A103", 3)])
    run_pa(announcer, clock, 60)
    labels = [r.label for r in recorder.recordings()]
    assert labels == ["A101-counter1", "B015-counter4", "A103-counter3"], "counter 3 moved on from A102"

    # A flood: calls keep coming faster than the PA can say them; none is said later than the limit.
    arrivals: dict[str, float] = {}
    for i in range(40):
        c = call(100 + i, f"K{i:03d}", 1 + i % 20)
        arrivals[f"K{i:03d}-counter{c.counter}"] = clock()
        announcer.on_board([c])
        run_pa(announcer, clock, 2)
    run_pa(announcer, clock, 120)
    late = [r.started_at - arrivals[r.label] for r in recorder.recordings() if r.label in arrivals]
    assert late and max(late) <= 60.0
    assert announcer.dropped > 0


def test_a_thousandth_ticket_is_said_digit_by_digit(
    voices_dir: Path, recorder: WavRecorder, voice_samples: type
) -> None:
    announcer = Announcer(load_voices(voices_dir, ["ms", "en"]), recorder, volume=1.0)
    announcer.on_board([])
    announcer.on_board([call(1, "A1000", 3)])
    sentences = {lang: voice_samples.SENTENCES[lang].replace(old, new) for lang, old, new in [
        ("ms", "satu kosong dua", "satu kosong kosong kosong"), ("en", "one zero two", "one zero zero zero")]}
    voice_samples.assert_pieces(
        voice_samples.pcm(recorder.recordings()[0].path),
        voice_samples.call_pieces(voices_dir, {lang: voice_samples.sentence_clips(s) for lang, s in sentences.items()}),
    )
