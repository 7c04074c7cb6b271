"""``giliran voices build|check|say``: the commands a technician uses to make and try packs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from display.announcer import compose
from display.voice_pack import load_voices
from giliran.cli import build_parser


def giliran(*argv: str) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_build_then_check_then_say(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   voice_samples: type) -> None:
    voices = tmp_path / "voices"
    assert giliran("voices", "build", "--lang", "ms", "--out", str(voices),
                   "--number-reading", "number") == 0
    assert 'number_reading = "number"' in (voices / "ms" / "manifest.toml").read_text()
    assert giliran("voices", "check", str(voices), "--lang", "ms") == 0
    assert f"{voices / 'ms'}: ok" in capsys.readouterr().out

    out = tmp_path / "call.wav"
    assert giliran("voices", "say", "A102", "3", "--voices", str(voices), "--lang", "ms",
                   "--out", str(out)) == 0
    assert voice_samples.pcm(out) == compose("A102", 3, load_voices(voices, ["ms"])).pcm()


def test_check_names_a_missing_clip(voices_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(voices_dir / "en", tmp_path / "en")
    (tmp_path / "en" / "please.wav").unlink()
    assert giliran("voices", "check", str(tmp_path), "--lang", "en") == 1
    err = capsys.readouterr().err
    assert "missing clip 'please.wav'" in err
    assert str(tmp_path / "en") in err
