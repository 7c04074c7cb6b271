"""Build the default voice packs offline with espeak-ng, and the ``giliran voices`` commands.

Each word is spoken on its own by espeak-ng (voices ms, en, id), trimmed of
the silence espeak-ng pads it with, and written as ``<word>.wav``, 22050 Hz
mono 16-bit, so that joined words sound like one sentence. The chime is
synthesized (display.chime). Nothing is downloaded.

Example::

    build_voice_pack("ms", Path("voices/ms"))
    # giliran voices build --lang ms en --out voices
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from display.announcer import compose
from display.chime import chime
from display.clip import Clip, read_wav, trim, write_wav
from display.voice_pack import (
    ALL_LETTERS,
    CHIME,
    MANIFEST,
    VoicePack,
    load_voice_pack,
    load_voices,
    parse_manifest,
    required_clips,
)
from giliran.errors import AudioError, GiliranError

log = logging.getLogger(__name__)

RATE = 22050
ESPEAK_SPEED_WPM = 160  # espeak-ng's 175 is brisk for a hall with echo; 140 drags

#: The sentence of a call in each language: "A102 to counter 3".
DEFAULT_PHRASES = {
    "ms": "nombor giliran {number} , sila ke kaunter {counter}",
    "en": "number {number} , please go to counter {counter}",
    "id": "nomor antrian {number} , silakan ke loket {counter}",
}
_NAMES = {"ms": "Malay", "en": "English", "id": "Indonesian"}

_MANIFEST_TEMPLATE = """\
# Giliran voice pack; every key is described in docs/VOICES.md.
format = 1
language = "{lang}"
name = "{name}"
sample_rate = {rate}          # every clip must be mono 16-bit at this rate
number_reading = "{reading}"  # "digits": A satu kosong dua; "number": A seratus dua
# The words of a call: clip names, {{number}}, {{counter}} and "," for a pause.
phrase = "{phrase}"
gap_ms = 40                   # silence between two words
pause_ms = 250                # silence at a ","
"""


def _espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise AudioError("espeak-ng is not installed (apt-get install espeak-ng)")
    return path


def _spoken_text(clip_name: str) -> str:
    """What espeak-ng says for a clip: the capital letter for letters, else the word."""
    if clip_name.startswith("letter_"):
        return clip_name.removeprefix("letter_").upper()
    return clip_name.replace("_", " ")


def _speak(espeak: str, lang: str, clip_name: str, workdir: Path) -> Clip:
    text = _spoken_text(clip_name)
    out = workdir / f"{clip_name}.wav"
    cmd = [espeak, "-v", lang, "-s", str(ESPEAK_SPEED_WPM), "-w", str(out), "--", text]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=30)
    except subprocess.CalledProcessError as exc:
        raise AudioError(
            f"espeak-ng -v {lang} failed on {text!r}: {exc.stderr.decode(errors='replace')}"
        ) from None
    except subprocess.TimeoutExpired:
        raise AudioError(f"espeak-ng -v {lang} took over 30 s on {text!r}") from None
    clip = read_wav(out)
    if clip.rate != RATE:
        raise AudioError(f"espeak-ng -v {lang} made {clip.rate} Hz audio; expected {RATE}")
    return trim(clip)


def build_voice_pack(
    lang: str,
    out_dir: Path,
    number_reading: Literal["digits", "number"] = "digits",
    letters: str = ALL_LETTERS,
) -> VoicePack:
    """Write the espeak-ng pack for ``lang`` into folder ``out_dir`` and load it back.

    Existing clips of the same name are replaced; a recorded clip added under
    another name is left alone. Returns the checked pack.
    """
    if lang not in DEFAULT_PHRASES:
        raise ValueError(f"no default pack for language {lang!r}; known: {sorted(DEFAULT_PHRASES)}")
    espeak = _espeak()
    text = _MANIFEST_TEMPLATE.format(
        lang=lang, name=f"espeak-ng {_NAMES[lang]} (generated)", rate=RATE,
        reading=number_reading, phrase=DEFAULT_PHRASES[lang],
    )
    manifest = parse_manifest(text, str(out_dir))
    words = [name for name in required_clips(manifest, letters) if name != CHIME]
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="giliran-espeak-") as tmp, ThreadPoolExecutor() as pool:
        clips = pool.map(lambda w: _speak(espeak, lang, w, Path(tmp)), words)
        for word, clip in zip(words, clips, strict=True):
            write_wav(out_dir / f"{word}.wav", clip)
    write_wav(out_dir / f"{CHIME}.wav", chime(RATE))
    (out_dir / MANIFEST).write_text(text, encoding="utf-8")
    log.info("built %s voice pack in %s: %d words", lang, out_dir, len(words))
    return load_voice_pack(out_dir, letters)


# --- giliran voices ... ----------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run a ``giliran voices`` command (parsed by giliran.cli); 0 on success, 1 with a message on stderr."""
    try:
        if args.voices_command == "build":
            for lang in args.lang:
                pack = build_voice_pack(lang, args.out / lang, args.number_reading)
                print(f"{pack.path}: {len(pack.clips)} clips, {pack.language}, "
                      f"numbers read as {pack.manifest.number_reading}")
        elif args.voices_command == "check":
            for pack in load_voices(args.dir, args.lang, args.letters or ALL_LETTERS):
                print(f"{pack.path}: ok, {len(pack.clips)} clips")
        else:
            packs = load_voices(args.voices, args.lang, [c for c in args.number if c.isalpha()])
            clip = compose(args.number, args.counter, packs)
            write_wav(args.out, clip)
            print(f"{args.out}: {clip.seconds:.1f} s")
    except (GiliranError, ValueError) as exc:
        print(f"giliran voices {args.voices_command}: {exc}", file=sys.stderr)
        return 1
    return 0

