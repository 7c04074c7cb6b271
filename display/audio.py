"""Where announcements are played: the PA through pygame.mixer, or WAV files.

Both players do the same small job, like one channel of a mixing desk: play
one clip, say whether it is still playing, set the gain, close. Queueing is
the announcer's job, not the player's (pygame's ``Channel.queue`` holds only
one pending sound), so a player refuses a clip while one is playing rather
than cut it off: announcements never overlap.

Volume is the player's, as on a real amplifier: a technician's volume command
reaches the sound that is playing now, and clips stay as the pack made them.

Example::

    player = WavRecorder(Path("demo-out/announcements"), clock=time.monotonic)
    player.play(clip, "A102-counter3")
    player.recordings()[0].path   # demo-out/announcements/0001-A102-counter3.wav
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from display.clip import Clip, scale, write_wav
from giliran.errors import AudioError

if TYPE_CHECKING:
    import pygame

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Player(Protocol):
    """The one seam to sound hardware.

    A backend must implement all four methods. ``play`` is only called when
    ``busy()`` is false; a backend raises AudioError if it is not, instead of
    cutting the playing clip off or mixing the two.
    """

    def play(self, clip: Clip, label: str) -> None: ...

    def busy(self) -> bool: ...

    def set_volume(self, volume: float) -> None: ...

    def close(self) -> None: ...


def _check_volume(volume: float) -> float:
    if not 0.0 <= volume <= 1.0:
        raise ValueError(f"volume {volume} is outside 0.0-1.0")
    return volume


class MixerPlayer:
    """The real PA: one reserved pygame.mixer channel, mono 16-bit at the packs' rate.

    Takes over pygame.mixer: if something (e.g. ``pygame.init()``) opened it
    in another format it is reopened, so the clips play bit for bit, with no
    resampling. Tests run it with ``SDL_AUDIODRIVER=disk``.
    """

    # 4096 samples (0.19 s at 22050 Hz) of buffer: an announcement can start that late, and
    # with 1024 the stream underran (audible stutters) while the machine was busy.
    def __init__(self, rate: int, buffer: int = 4096) -> None:
        import pygame

        self._pygame = pygame
        wanted = (rate, -16, 1)
        current = pygame.mixer.get_init()
        if current is not None and tuple(current) != wanted:
            log.info("reopening pygame.mixer as %s (was %s)", wanted, current)
            pygame.mixer.quit()
        try:
            pygame.mixer.init(frequency=rate, size=-16, channels=1, buffer=buffer,
                              allowedchanges=0)
        except pygame.error as exc:
            raise AudioError(f"cannot open the sound output (pygame.mixer): {exc}") from None
        pygame.mixer.set_reserved(1)
        self._channel = pygame.mixer.Channel(0)
        self._sound: pygame.mixer.Sound | None = None
        self._volume = 1.0
        log.info("PA on pygame.mixer %s, driver %s", wanted, pygame.mixer.get_init())

    def play(self, clip: Clip, label: str) -> None:
        if self.busy():
            raise AudioError(f"PA is still playing; {label} would cut it off")
        sound = self._pygame.mixer.Sound(buffer=clip.pcm())
        sound.set_volume(self._volume)
        self._sound = sound  # pygame needs the Sound alive while it plays
        self._channel.play(sound)
        log.debug("PA playing %s (%.1f s)", label, clip.seconds)

    def busy(self) -> bool:
        return bool(self._channel.get_busy())

    def set_volume(self, volume: float) -> None:
        self._volume = _check_volume(volume)
        if self._sound is not None:
            self._sound.set_volume(volume)

    def close(self) -> None:
        self._channel.stop()
        self._sound = None
        self._pygame.mixer.quit()


@dataclass(frozen=True)
class Recording:
    """One announcement as the recorder wrote it; ``started_at`` is on the injected clock."""

    path: Path
    label: str
    started_at: float
    seconds: float
    volume: float

    @property
    def ended_at(self) -> float:
        return self.started_at + self.seconds


class WavRecorder:
    """A PA that writes each announcement to its own WAV file, for tests and the simulator.

    One file per announcement (``0001-A102-counter3.wav``...), samples scaled
    by the volume as an amplifier would, and a ``recordings()`` log with the
    clock time each started. It is "playing" from ``play`` until the clock has
    moved on by the clip's length, so queueing behaves as on the real PA
    without any waiting: advance the injected clock instead.
    """

    def __init__(self, folder: Path, clock: Clock) -> None:
        self._folder = folder
        self._clock = clock
        self._volume = 1.0
        self._until = float("-inf")
        self._log: list[Recording] = []
        folder.mkdir(parents=True, exist_ok=True)

    def play(self, clip: Clip, label: str) -> None:
        now = self._clock()
        if self.busy():
            raise AudioError(f"recorder is still playing until {self._until}; {label} at {now}")
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", label)
        path = self._folder / f"{len(self._log) + 1:04d}-{safe}.wav"
        write_wav(path, scale(clip, self._volume))
        self._until = now + clip.seconds
        self._log.append(Recording(path, label, now, clip.seconds, self._volume))
        log.debug("recorded %s to %s", label, path)

    def busy(self) -> bool:
        return self._clock() < self._until

    def set_volume(self, volume: float) -> None:
        self._volume = _check_volume(volume)

    def recordings(self) -> list[Recording]:
        return list(self._log)

    def close(self) -> None:
        """Nothing is held open: each file is closed as soon as it is written."""
