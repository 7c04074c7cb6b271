"""A PA whose sound device may be missing: the board runs anyway and keeps trying.

A board with no sound card (unplugged HDMI audio, a USB speaker not there yet,
a sound server not started) must still show the board: the numbers on the
screen matter more than the voice. ``ReopeningPlayer`` wraps the real player:
while the device cannot be opened it drops announcements (a call spoken
minutes late would send people to the wrong counter), and it tries again every
``retry_s`` seconds on the injected clock. The first attempt and then each change between
"open" and "missing" are reported once through ``on_change`` (the display node
puts them in its status and an error event), not every retry.

Example::

    pa = ReopeningPlayer(lambda: MixerPlayer(22050), clock=time.time, on_change=print)
    pa.poll()        # every frame: retries when retry_s has passed
    pa.missing       # e.g. "cannot open the sound output (pygame.mixer): ..." or None
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from display.audio import Clip, Player
from giliran.errors import AudioError

log = logging.getLogger(__name__)

#: Seconds between two attempts to open a missing sound device.
RETRY_S = 10.0


class ReopeningPlayer:
    """A Player that opens the real one when it can, and retries while it cannot.

    ``open_player`` raises AudioError when there is no device. ``on_change``
    gets the reason when the device is missing, None when it is open: once for
    the first attempt (the first ``poll``), then at each change.
    """

    def __init__(
        self,
        open_player: Callable[[], Player],
        clock: Callable[[], float],
        *,
        retry_s: float = RETRY_S,
        on_change: Callable[[str | None], None] = lambda _reason: None,
    ) -> None:
        self._open = open_player
        self._clock = clock
        self._retry_s = retry_s
        self._on_change = on_change
        self._player: Player | None = None
        self._volume: float | None = None
        self._next_try = clock()
        self._reported = False
        #: Why the device cannot be opened; None while it is open.
        self.missing: str | None = None
        #: Announcements dropped because there was no device.
        self.dropped = 0

    def poll(self) -> None:
        """Open the device if it is missing and ``retry_s`` has passed; cheap otherwise."""
        if self._player is not None or self._clock() < self._next_try:
            return
        try:
            player = self._open()
        except AudioError as exc:
            self._next_try = self._clock() + self._retry_s
            if self.missing is None or not self._reported:
                self.missing = str(exc)
                log.error("pa: no sound device (%s); trying again every %g s", exc, self._retry_s)
                self._report()
            return
        if self._volume is not None:
            player.set_volume(self._volume)
        self._player = player
        if self.missing is not None or not self._reported:
            if self.missing is not None:
                log.info("pa: sound device open after %d dropped announcements", self.dropped)
            self.missing = None
            self._report()

    def _report(self) -> None:
        self._reported = True
        self._on_change(self.missing)

    def play(self, clip: Clip, label: str) -> None:
        if self._player is None:
            self.dropped += 1
            log.warning("pa: no sound device; %s not announced", label)
            return
        self._player.play(clip, label)

    def busy(self) -> bool:
        return self._player is not None and self._player.busy()

    def set_volume(self, volume: float) -> None:
        self._volume = volume
        if self._player is not None:
            self._player.set_volume(volume)

    def close(self) -> None:
        if self._player is not None:
            self._player.close()
            self._player = None
