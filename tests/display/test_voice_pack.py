"""Voice packs: the built espeak-ng packs, the manifest, and the errors a pack maker sees."""

from __future__ import annotations

import math
import shutil
import tempfile
import wave
from pathlib import Path

import pytest

from display.chime import chime
from display.clip import read_wav
from display.voice_pack import load_voice_pack, load_voices, parse_manifest
from display.voices_build import RATE, _espeak, _speak
from giliran.errors import VoicePackError

MANIFEST = """\
language = "ms"
sample_rate = 22050
number_reading = "digits"
phrase = "nombor giliran {number} , sila ke kaunter {counter}"
"""


def copy_pack(voices_dir: Path, lang: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(voices_dir / lang, tmp_path / lang))


# --- the built packs ----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ms", "en", "id"])
def test_a_call_is_the_sentence_a_person_would_say(voices_dir: Path, lang: str,
                                                   voice_samples: type) -> None:
    pack = load_voice_pack(voices_dir / lang)
    words = [w for w in pack.call_words("A102", 3) if w != ","]
    assert words == voice_samples.sentence_clips(voice_samples.SENTENCES[lang])


def test_number_rule_as_number_reads_hundreds(number_voices_dir: Path, voices_dir: Path,
                                              voice_samples: type) -> None:
    expected = {
        "ms": "nombor giliran A seratus dua , sila ke kaunter dua belas",
        "en": "number A one hundred and two , please go to counter twelve",
        "id": "nomor antrian A seratus dua , silakan ke loket dua belas",
    }
    for lang, sentence in expected.items():
        as_number = load_voice_pack(number_voices_dir / lang).call_words("A102", 12)
        digits = load_voice_pack(voices_dir / lang).call_words("A102", 12)
        assert [w for w in as_number if w != ","] == voice_samples.sentence_clips(sentence)
        assert as_number != digits
        # Counter numbers are read as a number under both rules.
        assert as_number[-2:] == digits[-2:]


def test_leading_zeros_are_read_only_digit_by_digit(number_voices_dir: Path,
                                                    voices_dir: Path) -> None:
    assert load_voice_pack(voices_dir / "en").call_words("B007", 1)[1:5] == [
        "letter_b", "zero", "zero", "seven"]
    assert load_voice_pack(number_voices_dir / "en").call_words("B007", 1)[1:3] == [
        "letter_b", "seven"]


@pytest.mark.parametrize("lang", ["ms", "en", "id"])
def test_built_clips_are_22050_hz_mono_16_bit_and_trimmed(voices_dir: Path, lang: str) -> None:
    files = sorted((voices_dir / lang).glob("*.wav"))
    assert len(files) > 40
    for path in files:
        with wave.open(str(path), "rb") as f:
            assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (22050, 1, 2)
        if path.stem == "chime":
            continue
        samples = read_wav(path).samples
        loud = [i for i, s in enumerate(samples) if abs(s) > 0.02 * 32767]
        # The 10 ms margin the trim keeps, and no more silence than that at either end.
        assert loud[0] <= 0.0105 * RATE, f"{path.name} starts with silence"
        assert len(samples) - loud[-1] <= 0.0105 * RATE + 1, f"{path.name} ends with silence"
        assert 0.1 < len(samples) / RATE < 1.5, path.name


@pytest.mark.parametrize("lang", ["ms", "en", "id"])
def test_each_clip_is_the_word_it_is_named_after(voices_dir: Path, lang: str,
                                                 voice_samples: type) -> None:
    """Re-speak words and compare: catches clips written under the wrong name."""
    files = sorted((voices_dir / lang).glob("*.wav"))
    data = {p.stem: voice_samples.pcm(p) for p in files}
    assert len(set(data.values())) == len(data), "two clips have the same sound"
    with tempfile.TemporaryDirectory() as tmp:
        for word in ("satu", "dua", "tiga", "nol", "zero", "one", "letter_a", "letter_b"):
            if word in data:
                assert _speak(_espeak(), lang, word, Path(tmp)).pcm() == data[word], word


def test_chime_is_a_deterministic_ding_dong(voices_dir: Path, voice_samples: type) -> None:
    clip = chime(RATE)
    assert clip.pcm() == chime(RATE).pcm() == voice_samples.pcm(voices_dir / "ms" / "chime.wav")
    assert 0.39 * 32767 < max(abs(s) for s in clip.samples) <= 0.4 * 32767 + 1

    def level(start_s: float, freq: float) -> float:
        window = clip.samples[round(start_s * RATE): round((start_s + 0.2) * RATE)]
        re = sum(s * math.cos(2 * math.pi * freq * i / RATE) for i, s in enumerate(window))
        im = sum(s * math.sin(2 * math.pi * freq * i / RATE) for i, s in enumerate(window))
        return math.hypot(re, im)

    assert level(0.05, 659.25) > 5 * level(0.05, 523.25)  # ding: E5
    assert level(0.9, 523.25) > 5 * level(0.9, 659.25)  # dong: C5
    assert clip.samples[-1] == 0 or abs(clip.samples[-1]) < 50  # fades out, no click


# --- manifest and clip errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('"digits"', '"words"'), "number_reading"),
        (('language = "ms"', 'language = "ta"'), "language 'ta'"),
        (("sample_rate = 22050", "sample_rate = 22050.5"), "sample_rate"),
        (("sample_rate = 22050", "sample_rate = 100"), "sample_rate 100"),
        (("{counter}", "{kaunter}"), "must contain {counter} once"),
        (("sila ke", "sila-ke"), "'sila-ke' is neither"),
        (("phrase =", "frase ="), "frase"),
        (('"digits"', '"digits'), "not valid TOML"),
    ],
)
def test_manifest_errors_name_the_key(change: tuple[str, str], message: str) -> None:
    with pytest.raises(VoicePackError) as err:
        parse_manifest(MANIFEST.replace(*change), "voices/ms")
    assert message in str(err.value)
    assert "voices/ms" in str(err.value)


def test_missing_phrase_is_named() -> None:
    with pytest.raises(VoicePackError, match="phrase"):
        parse_manifest(MANIFEST.replace("phrase", "# phrase"), "voices/ms")


def test_missing_clips_are_all_named_with_the_pack(voices_dir: Path, tmp_path: Path) -> None:
    pack = copy_pack(voices_dir, "ms", tmp_path)
    (pack / "tiga.wav").unlink()
    (pack / "letter_b.wav").unlink()
    with pytest.raises(VoicePackError) as err:
        load_voice_pack(pack)
    assert str(pack) in str(err.value)
    assert "missing clip 'tiga.wav'" in str(err.value)
    assert "missing clip 'letter_b.wav'" in str(err.value)
    # A site whose tickets only start with A and P does not need letter B.
    with pytest.raises(VoicePackError, match="tiga.wav"):
        load_voice_pack(pack, letters="AP")
    shutil.copy(voices_dir / "ms" / "tiga.wav", pack / "tiga.wav")
    assert load_voice_pack(pack, letters="AP").language == "ms"


def test_a_clip_in_the_wrong_format_is_named(voices_dir: Path, tmp_path: Path) -> None:
    pack = copy_pack(voices_dir, "en", tmp_path)
    with wave.open(str(pack / "three.wav"), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(44100)
        f.writeframes(b"\x10\x00" * 100)
    with wave.open(str(pack / "two.wav"), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(22050)
        f.writeframes(b"\x10\x00" * 100)
    (pack / "one.wav").write_bytes(b"not a wav")
    with pytest.raises(VoicePackError) as err:
        load_voice_pack(pack)
    text = str(err.value)
    assert "'three.wav' is 44100 Hz but sample_rate is 22050" in text
    assert "'two.wav' is 2 channel(s)" in text
    assert "'one.wav' is not a PCM WAV file" in text
    assert "3 problem(s)" in text


def test_no_manifest_and_wrong_language_are_named(voices_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(VoicePackError, match="no manifest.toml"):
        load_voice_pack(tmp_path)
    shutil.copytree(voices_dir / "en", tmp_path / "ms")
    with pytest.raises(VoicePackError, match="language is 'en', expected 'ms'"):
        load_voices(tmp_path, ["ms"])


def test_a_ticket_number_that_is_not_letters_then_digits_is_refused(voices_dir: Path) -> None:
    pack = load_voice_pack(voices_dir / "ms")
    with pytest.raises(ValueError, match="'a12'"):
        pack.call_words("a12", 1)


# --- docs/VOICES.md cannot drift from the code -------------------------------------------

VOICES_MD = Path(__file__).resolve().parents[2] / "docs" / "VOICES.md"


def test_every_manifest_key_is_described_in_voices_md() -> None:
    import msgspec

    from display.voice_pack import Manifest

    text = VOICES_MD.read_text(encoding="utf-8")
    for field in msgspec.structs.fields(Manifest):
        assert f"| `{field.name}` |" in text, field.name


@pytest.mark.parametrize("lang", ["ms", "en", "id"])
def test_the_number_clip_lists_in_voices_md_are_complete(lang: str) -> None:
    from display.number_words import digit_words, vocabulary
    from display.voices_build import DEFAULT_PHRASES

    text = VOICES_MD.read_text(encoding="utf-8")
    zero = digit_words("0", lang)[0]
    [row] = [line for line in text.splitlines() if line.startswith(f"| {lang} | {zero} ")]
    assert set(row.split("|")[2].split()) == vocabulary(lang)
    assert f"`{DEFAULT_PHRASES[lang]}`" in text
