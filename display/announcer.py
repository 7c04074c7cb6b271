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
sound); calls wait in the announcer's own queue and go to the player only when
it is idle, so announcements never overlap.

The PA never falls minutes behind (``Backlog``): a full call in two languages
takes about 13 s, so six counters calling at once would queue over a minute.
When two or more calls wait behind the one about to be said, the PA switches to
the short form ("A102, kaunter tiga", every language, one chime for the run)
until it has caught up; a call superseded by a newer call of the same counter
is dropped (that counter has moved on), and so is a call still waiting
``max_delay_s`` after it arrived. The board shows every call regardless, and
a recall announces a call again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

import msgspec

from display.audio import Player
from display.clip import Clip, concat, silence
from display.voice_pack import COUNTER, NUMBER, PAUSE, VoicePack, call_words
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


SHORT_TIMING = Timing(after_chime_s=0.1, between_languages_s=0.4, after_call_s=0.5)


@dataclass(frozen=True)
class Backlog:
    """How the PA keeps up when calls come faster than it can say them."""

    short_when_waiting: int = 2  # this many calls behind the next one: the short form until caught up
    max_delay_s: float = 60.0  # a call not started this long after it arrived is dropped (the board has it)


def short_phrase(phrase: str) -> str:
    """The phrase cut to the number and the counter with its word: "{number} , kaunter {counter}".

    Taken from the pack's own phrase, so every clip it needs is in the pack.
    """
    tokens = phrase.split()
    at = tokens.index(COUNTER)
    counter_part = [tokens[at - 1], COUNTER] if at and tokens[at - 1] not in (NUMBER, PAUSE) else [COUNTER]
    if tokens.index(NUMBER) < at:
        return " ".join([NUMBER, PAUSE, *counter_part])
    return " ".join([*counter_part, PAUSE, NUMBER])


def compose(number: str, counter: int, packs: Sequence[VoicePack], timing: Timing = Timing(), *,
            short: bool = False, chime: bool = True) -> Clip:
    """One call as one clip: the first pack's chime, then the call in each pack's language.

    ``short``: only the number and the counter, in each language (``short_phrase``).
    """
    if not packs:
        raise ValueError("no voice packs: name at least one language")
    rate = packs[0].rate
    parts = [packs[0].chime, silence(rate, timing.after_chime_s)] if chime else []
    for i, pack in enumerate(packs):
        if i:
            parts.append(silence(rate, timing.between_languages_s))
        manifest = msgspec.structs.replace(pack.manifest, phrase=short_phrase(pack.manifest.phrase)) \
            if short else pack.manifest
        parts.append(pack.render(call_words(manifest, number, counter)))
    parts.append(silence(rate, timing.after_call_s))
    return concat(parts)


@dataclass(frozen=True)
class _Waiting:
    call: CallView
    since: float  # the announcer's clock when it arrived


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
        backlog: Backlog = Backlog(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not packs:
            raise ValueError("no voice packs: name at least one language")
        self._packs = list(packs)
        self._player = player
        self._counters = frozenset(counters)
        self._timing = timing
        self._backlog = backlog
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: Seen | None = None
        self._queue: deque[_Waiting] = deque()
        self._catching_up = False
        self._volume = volume
        self._announced = 0
        self._dropped = 0
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

    @property
    def dropped(self) -> int:
        """Calls not announced because they were superseded or waited past ``max_delay_s``."""
        return self._dropped

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
            now = self._clock()
            queued = [call for call in fresh if (not self._counters or call.counter in self._counters)
                      and self._sayable(call)]
            self._queue.extend(_Waiting(call, now) for call in queued)
        for call in queued:
            log.info("queued announcement %s (call %d)", label(call), call.call_id)
        self.tick()
        return queued

    def tick(self) -> None:
        """Start the next announcement if the player is idle; call it often."""
        with self._lock:
            if self._player.busy():
                return
            while self._queue:
                waiting = self._queue.popleft()
                name = label(waiting.call)
                if self._outdated(waiting):
                    self._dropped += 1
                    continue
                behind = len(self._queue)
                chime = not self._catching_up
                self._catching_up = behind >= self._backlog.short_when_waiting or (self._catching_up and behind > 0)
                short = self._catching_up or not chime
                try:
                    clip = compose(waiting.call.number, waiting.call.counter, self._packs,
                                   SHORT_TIMING if short else self._timing, short=short, chime=chime)
                except (GiliranError, ValueError) as exc:
                    log.error("cannot announce %s: %s", name, exc)
                    continue
                self._player.play(clip, name)
                self._announced += 1
                break
            else:
                self._catching_up = False
                return
        log.info("announcing %s (%.1f s%s)", name, clip.seconds, ", short form" if short else "")

    def _sayable(self, call: CallView) -> bool:
        """A call the packs cannot say (a letter with no clip) is logged once, when it arrives."""
        try:
            compose(call.number, call.counter, self._packs, self._timing)
        except (GiliranError, ValueError) as exc:
            log.error("cannot announce %s: %s", label(call), exc)
            return False
        return True

    def _outdated(self, waiting: _Waiting) -> bool:
        """Superseded by a newer call of the same counter, or waited too long (the board shows it anyway)."""
        call = waiting.call
        if any(w.call.counter == call.counter for w in self._queue):
            log.warning("not announcing %s: counter %d has called again since", label(call), call.counter)
            return True
        late = self._clock() - waiting.since
        if late > self._backlog.max_delay_s:
            log.warning("not announcing %s: %.0f s late (limit %.0f s)", label(call), late, self._backlog.max_delay_s)
            return True
        return False

    def close(self) -> None:
        with self._lock:
            self._queue.clear()
            self._player.close()
