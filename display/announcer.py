"""The PA announcer: each new call once, as chime + the call in every site language.

The board renders from the retained board state, which repeats old calls and
comes again after every reconnect. Which calls are new is decided by one pure
function, ``new_calls``, on ``call_id`` (it grows by one per call, recalls
included):

- the first board state after start is already announced (a board that
  restarts or reconnects stays quiet);
- after that, every call with a higher ``call_id`` than any seen is new, so two
  calls in one state are both announced, in call order, and a recall (a new
  ``call_id`` for the same ticket) is announced again.

Each call becomes ONE clip (pygame's ``Channel.queue`` holds only one pending
sound); clips wait in the announcer's own queue and go to the player only when
it is idle, so announcements never overlap and none is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from display.audio import Player
from display.clip import Clip, concat, silence
from display.voice_pack import VoicePack
from giliran.errors import GiliranError
from giliran.protocol import CallView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seen:
    """Every call up to ``last_call_id`` has been announced (or was there at start)."""

    last_call_id: int


def new_calls(calls: Iterable[CallView], seen: Seen | None) -> tuple[list[CallView], Seen]:
    """The calls in a board state that are new, oldest first, and what is seen after it.

    ``seen`` is None for the first state after start: everything in it counts
    as announced. A state whose highest call_id is below the mark means the
    ledger's numbering started again (a new ledger file): it becomes the new
    mark, like a first state, rather than silencing the PA for good.
    """
    by_id = {c.call_id: c for c in calls}
    if not by_id:
        return [], seen or Seen(0)
    top = max(by_id)
    if seen is None:
        return [], Seen(top)
    if top < seen.last_call_id:
        log.warning("call_id went back from %d to %d; taking it as a new ledger",
                    seen.last_call_id, top)
        return [], Seen(top)
    fresh = [by_id[i] for i in sorted(by_id) if i > seen.last_call_id]
    return fresh, Seen(top)


@dataclass(frozen=True)
class Timing:
    """Silences between the parts of an announcement, in seconds."""

    after_chime_s: float = 0.1
    between_languages_s: float = 0.7
    after_call_s: float = 1.0  # so two announcements in a row do not run together


def compose(number: str, counter: int, packs: Sequence[VoicePack], timing: Timing = Timing()) -> Clip:
    """One call as one clip: the first pack's chime, then the call in each pack's language."""
    if not packs:
        raise ValueError("no voice packs: name at least one language")
    rate = packs[0].rate
    parts = [packs[0].chime, silence(rate, timing.after_chime_s)]
    for i, pack in enumerate(packs):
        if i:
            parts.append(silence(rate, timing.between_languages_s))
        parts.append(pack.render(pack.call_words(number, counter)))
    parts.append(silence(rate, timing.after_call_s))
    return concat(parts)


def label(call: CallView) -> str:
    return f"{call.number}-counter{call.counter}{'-recall' if call.recall else ''}"


class Announcer:
    """Announces each new call on a Player, one after another.

    Feed it every board state's calls and tick it from the main loop; it is
    safe to call from the MQTT thread and the main loop at once. ``counters``
    limits it to one PA zone (empty: every counter), as ``displays[].counters``.

    Example::

        packs = load_voices(Path("voices"), site.languages, prefixes)
        announcer = Announcer(packs, MixerPlayer(packs[0].rate), volume=display.volume)
        try:
            announcer.on_board(board.calls)   # for each board state received
            announcer.tick()                  # every frame
        finally:
            announcer.close()
    """

    def __init__(
        self,
        packs: Sequence[VoicePack],
        player: Player,
        *,
        volume: float = 0.8,
        counters: Collection[int] = (),
        timing: Timing = Timing(),
    ) -> None:
        if not packs:
            raise ValueError("no voice packs: name at least one language")
        self._packs = list(packs)
        self._player = player
        self._counters = frozenset(counters)
        self._timing = timing
        self._lock = threading.Lock()
        self._seen: Seen | None = None
        self._queue: deque[tuple[str, Clip]] = deque()
        self._volume = volume
        self._announced = 0
        player.set_volume(volume)

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def pending(self) -> int:
        """Announcements waiting for the one playing now to end."""
        with self._lock:
            return len(self._queue)

    @property
    def announced(self) -> int:
        """Announcements handed to the player since start."""
        return self._announced

    def set_volume(self, volume: float) -> None:
        """The technician's volume command; reaches the announcement playing now."""
        with self._lock:
            self._player.set_volume(volume)
            self._volume = volume
        log.info("PA volume set to %.2f", volume)

    def on_board(self, calls: Sequence[CallView]) -> list[CallView]:
        """Queue the new calls of a board state; returns those queued, oldest first."""
        with self._lock:
            fresh, self._seen = new_calls(calls, self._seen)
            queued = []
            for call in fresh:
                if self._counters and call.counter not in self._counters:
                    continue
                try:
                    clip = compose(call.number, call.counter, self._packs, self._timing)
                except (GiliranError, ValueError) as exc:
                    log.error("cannot announce %s: %s", label(call), exc)
                    continue
                self._queue.append((label(call), clip))
                queued.append(call)
        for call in queued:
            log.info("queued announcement %s (call %d)", label(call), call.call_id)
        self.tick()
        return queued

    def tick(self) -> None:
        """Start the next announcement if the player is idle; call it often."""
        with self._lock:
            if not self._queue or self._player.busy():
                return
            name, clip = self._queue.popleft()
            self._player.play(clip, name)
            self._announced += 1
        log.info("announcing %s (%.1f s)", name, clip.seconds)

    def close(self) -> None:
        with self._lock:
            self._queue.clear()
            self._player.close()
