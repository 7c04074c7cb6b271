"""Fixtures for the display tests."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

# --- PA announcer: voice packs (voices_dir is in the root conftest) ------------------


@pytest.fixture(scope="session")
def number_voices_dir(voices_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same packs with ``number_reading = "number"`` in each manifest."""
    root = tmp_path_factory.mktemp("voices-number")
    for lang in ("ms", "en", "id"):
        shutil.copytree(voices_dir / lang, root / lang)
        manifest = root / lang / "manifest.toml"
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(
            text.replace('number_reading = "digits"', 'number_reading = "number"'),
            encoding="utf-8",
        )
    return root


class VoiceSamples:
    """Checks announcements sample by sample against a pack's own clip files.

    Reads the pack folder with the stdlib ``wave`` module, not through
    display.voice_pack, so a bug there cannot hide itself.
    """

    #: "A102 to counter 3", as a person would write it in each language.
    SENTENCES = {
        "ms": "Nombor giliran A satu kosong dua, sila ke kaunter tiga",
        "en": "Number A one zero two, please go to counter three",
        "id": "Nomor antrian A satu nol dua, silakan ke loket tiga",
    }

    @staticmethod
    def sentence_clips(sentence: str) -> list[str]:
        """Clip names for a written sentence: 'A' -> 'letter_a', 'Nombor' -> 'nombor'."""
        words = sentence.replace(",", " ").split()
        return [f"letter_{w.lower()}" if len(w) == 1 and w.isupper() else w.lower()
                for w in words]

    @staticmethod
    def pcm(path: Path) -> bytes:
        with wave.open(str(path), "rb") as f:
            assert (f.getnchannels(), f.getsampwidth(), f.getframerate()) == (1, 2, 22050), path
            return f.readframes(f.getnframes())

    @classmethod
    def call_pieces(cls, voices: Path, clips_by_lang: dict[str, list[str]]) -> list[bytes]:
        """The chime of the first language, then each language's clips, as PCM bytes."""
        first = next(iter(clips_by_lang))
        pieces = [cls.pcm(voices / first / "chime.wav")]
        for lang, names in clips_by_lang.items():
            pieces += [cls.pcm(voices / lang / f"{name}.wav") for name in names]
        return pieces

    @staticmethod
    def assert_pieces(data: bytes, pieces: list[bytes]) -> None:
        """``data`` is exactly the pieces in order, with nothing but silence between them.

        A wrong, missing or extra word, or words out of order, leaves sound that
        is not the expected clip between two boundaries, and fails.
        """
        cursor = 0
        for i, piece in enumerate(pieces):
            at = data.find(piece, cursor)
            while at != -1 and at % 2:
                at = data.find(piece, at + 1)
            assert at != -1, f"piece {i} ({len(piece) // 2} samples) not found after {cursor // 2}"
            between = data[cursor:at]
            assert between == bytes(len(between)), (
                f"sound that is no expected clip between samples {cursor // 2} and {at // 2} "
                f"(before piece {i})"
            )
            cursor = at + len(piece)
        assert data[cursor:] == bytes(len(data) - cursor), "sound after the last expected clip"


@pytest.fixture(scope="session")
def voice_samples() -> type[VoiceSamples]:
    """The VoiceSamples helpers (test modules cannot import each other here)."""
    return VoiceSamples
