"""Voice packs: a folder of word clips and a manifest that says how to read a call.

A pack is data, not code, so a site can replace the generated espeak-ng voice
with a recorded human one by dropping in WAV files (docs/VOICES.md)::

    voices/ms/manifest.toml     language, sample rate, number rule, phrase
    voices/ms/chime.wav         the ding-dong before a call
    voices/ms/nombor.wav ...    one clip per word: <word>.wav
    voices/ms/letter_a.wav ...  one clip per ticket prefix letter

Loading checks the manifest and that every clip a call can need is there and
in the pack's format, so a broken pack stops the display at start, not in the
middle of the day. Every problem names the key or the clip, and the pack.

Example::

    pack = load_voice_pack(Path("voices/ms"))
    pack.call_words("A102", 3)
    # ['nombor', 'giliran', 'letter_a', 'satu', 'kosong', 'dua', ',', 'sila', ...]
    clip = pack.render(pack.call_words("A102", 3))
"""

from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

from display.clip import Clip, concat, read_wav, silence
from display.number_words import (
    LANGUAGES,
    MAX_NUMBER,
    digit_words,
    number_words,
    vocabulary,
)
from giliran.errors import VoicePackError

log = logging.getLogger(__name__)

MANIFEST = "manifest.toml"
CHIME = "chime"
PAUSE = ","
NUMBER = "{number}"
COUNTER = "{counter}"
ALL_LETTERS = string.ascii_uppercase

_WORD = re.compile(r"[a-z0-9_]+")
_TICKET = re.compile(r"([A-Z]*)([0-9]+)")


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``manifest.toml``; every key is described in docs/VOICES.md."""

    format: Literal[1] = 1
    language: str
    name: str = ""
    sample_rate: int = 22050
    number_reading: Literal["digits", "number"] = "digits"
    phrase: str
    gap_ms: int = 40
    pause_ms: int = 250

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(
                f"language {self.language!r} has no number words; use one of {list(LANGUAGES)}"
            )
        if not 8000 <= self.sample_rate <= 48000:
            raise ValueError(f"sample_rate {self.sample_rate} is outside 8000-48000 Hz")
        if not 0 <= self.gap_ms <= 1000:
            raise ValueError("gap_ms must be between 0 and 1000")
        if not 0 <= self.pause_ms <= 3000:
            raise ValueError("pause_ms must be between 0 and 3000")
        problems = _phrase_problems(self.phrase)
        if problems:
            raise ValueError(f"phrase {self.phrase!r}: {'; '.join(problems)}")

    def phrase_words(self) -> list[str]:
        """The fixed words of the phrase: clips every call needs."""
        return [t for t in self.phrase.split() if t not in (NUMBER, COUNTER, PAUSE)]


def _phrase_problems(phrase: str) -> list[str]:
    tokens = phrase.split()
    problems = [f"must contain {p} once" for p in (NUMBER, COUNTER) if tokens.count(p) != 1]
    for t in tokens:
        if t not in (NUMBER, COUNTER, PAUSE) and not _WORD.fullmatch(t):
            problems.append(
                f"{t!r} is neither {NUMBER}, {COUNTER}, ',' nor a clip name (a-z, 0-9, _)"
            )
    return problems


def letter_clip(letter: str) -> str:
    """The clip name for a ticket prefix letter: 'A' -> 'letter_a'."""
    return f"letter_{letter.lower()}"


def ticket_words(number: str, lang: str, reading: Literal["digits", "number"]) -> list[str]:
    """A ticket number as clip names: letters one by one, then the digits by the rule.

    A number too large to read as a number is read digit by digit rather than
    not at all; a call must always be announced.
    """
    match = _TICKET.fullmatch(number)
    if match is None:
        raise ValueError(f"ticket number {number!r} is not capital letters then digits")
    letters, digits = match.groups()
    words = [letter_clip(c) for c in letters]
    if reading == "number" and int(digits) <= MAX_NUMBER:
        return words + number_words(int(digits), lang)
    return words + digit_words(digits, lang)


def call_words(manifest: Manifest, number: str, counter: int) -> list[str]:
    """The clip names (and ',' pauses) for one call, by the manifest's phrase and rule.

    Counter numbers are always read as a number: "kaunter dua belas".
    """
    words: list[str] = []
    for token in manifest.phrase.split():
        if token == NUMBER:
            words += ticket_words(number, manifest.language, manifest.number_reading)
        elif token == COUNTER:
            words += number_words(counter, manifest.language)
        else:
            words.append(token)
    return words


def required_clips(manifest: Manifest, letters: Iterable[str] = ALL_LETTERS) -> list[str]:
    """Every clip a call can need, so a pack is checked once, at load."""
    needed = [CHIME, *manifest.phrase_words()]
    needed += sorted(vocabulary(manifest.language))
    needed += [letter_clip(c) for c in sorted(set(letters))]
    return list(dict.fromkeys(needed))


@dataclass(frozen=True)
class VoicePack:
    """A loaded, checked pack: its manifest and every clip by name."""

    path: Path
    manifest: Manifest
    clips: Mapping[str, Clip]

    @property
    def language(self) -> str:
        return self.manifest.language

    @property
    def rate(self) -> int:
        return self.manifest.sample_rate

    @property
    def chime(self) -> Clip:
        return self.clips[CHIME]

    def call_words(self, number: str, counter: int) -> list[str]:
        return call_words(self.manifest, number, counter)

    def clip(self, word: str) -> Clip:
        try:
            return self.clips[word]
        except KeyError:
            raise VoicePackError(str(self.path), [f"missing clip {word + '.wav'!r}"]) from None

    def render(self, words: Sequence[str]) -> Clip:
        """Join the clips, ``gap_ms`` between words and ``pause_ms`` at a ','."""
        gap = silence(self.rate, self.manifest.gap_ms / 1000)
        pause = silence(self.rate, self.manifest.pause_ms / 1000)
        pieces: list[Clip] = []
        for i, word in enumerate(words):
            if word == PAUSE:
                pieces.append(pause)
                continue
            if i > 0 and words[i - 1] != PAUSE:
                pieces.append(gap)
            pieces.append(self.clip(word))
        return concat(pieces) if pieces else silence(self.rate, 0)


def parse_manifest(text: str, source: str) -> Manifest:
    """Validate a manifest's text; VoicePackError names the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise VoicePackError(source, [f"{MANIFEST} is not valid TOML: {exc}"]) from None
    try:
        return msgspec.convert(raw, Manifest)
    except msgspec.ValidationError as exc:
        raise VoicePackError(source, [f"{MANIFEST}: {_key_message(exc)}"]) from None


def _key_message(exc: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int` - at `$.gap_ms`" becomes "gap_ms: Expected `int`"."""
    message, sep, where = str(exc).rpartition(" - at `")
    if not sep:
        return str(exc)
    key = where.rstrip("`").removeprefix("$").lstrip(".")
    if key == "number_reading":
        message += ' (use "digits" or "number")'
    return f"{key}: {message}" if key else message


def load_voice_pack(path: Path, letters: Iterable[str] = ALL_LETTERS) -> VoicePack:
    """Load and check the pack in folder ``path``.

    ``letters`` are the ticket prefixes the site uses (a recorded pack need
    not have all 26). Raises VoicePackError listing every missing or bad clip.
    """
    source = str(path)
    try:
        text = (path / MANIFEST).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VoicePackError(source, [f"no {MANIFEST}; is this a voice pack folder?"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VoicePackError(source, [f"cannot read {MANIFEST}: {exc}"]) from None
    manifest = parse_manifest(text, source)
    clips: dict[str, Clip] = {}
    problems: list[str] = []
    for name in required_clips(manifest, letters):
        try:
            clip = read_wav(path / f"{name}.wav")
        except VoicePackError as exc:
            problems += exc.problems
            continue
        if clip.rate != manifest.sample_rate:
            problems.append(
                f"clip {name + '.wav'!r} is {clip.rate} Hz but sample_rate is "
                f"{manifest.sample_rate} (sox in.wav -r {manifest.sample_rate} out.wav)"
            )
        elif not any(clip.samples):
            problems.append(f"clip {name + '.wav'!r} is silent")
        else:
            clips[name] = clip
    if problems:
        raise VoicePackError(source, problems)
    log.info("voice pack %s (%s): %d clips", source, manifest.language, len(clips))
    return VoicePack(path, manifest, clips)


def load_voices(
    root: Path, languages: Sequence[str], letters: Iterable[str] = ALL_LETTERS
) -> list[VoicePack]:
    """The packs ``root/<lang>`` for the site's languages, in announcement order."""
    letters = list(letters)
    packs = [load_voice_pack(root / lang, letters) for lang in languages]
    for lang, pack in zip(languages, packs, strict=True):
        if pack.language != lang:
            raise VoicePackError(
                str(pack.path), [f"{MANIFEST}: language is {pack.language!r}, expected {lang!r}"]
            )
        if pack.rate != packs[0].rate:
            raise VoicePackError(
                str(pack.path),
                [f"{MANIFEST}: sample_rate {pack.rate} differs from {packs[0].path}'s "
                 f"{packs[0].rate}; one announcement joins every language"],
            )
    return packs
