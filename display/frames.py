"""When a board draws: on a steady tick, and at once when a new board state arrives.

The tick (20 a second) keeps the clock, the flash and the notice's scroll
moving; a new board state must not wait for it. A board that only drew on
the tick would show a call up to a whole frame (50 ms) after it arrived,
for no reason but the phase of its loop. So the MQTT thread *wakes* the loop
and the next frame is drawn at once.

The tick grid is not moved by a wake-up: the flash (0.5 s half-periods,
measured from the call's arrival) is sampled on the same grid as before, and
an idle board costs what it did. At most one woken frame is drawn per tick,
so a burst of states costs at most twice the frame rate.

Time comes from the injected clock, and the waiting from the injected
``sleep(event, seconds)`` (``threading.Event.wait``: it ends early when the
event is set), never longer than one tick, so a clock that jumps, or a test's
clock that stands still, cannot stall the loop's stop check. Tests pass a
sleep that moves their clock instead, and step through seconds of frames
without sleeping.

Example (what ``giliran display`` runs; the node calls ``node.pacer.wake()``
when a board state arrives)::

    present_loop(node.frame, pygame.display.update, node.pacer, stop)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pygame import Rect

log = logging.getLogger(__name__)

FRAME_S = 0.05

Sleep = Callable[[threading.Event, float], object]


class FramePacer:
    """Says when the next frame is due: the next tick of ``period_s``, or a wake-up, whichever is first."""

    def __init__(self, period_s: float = FRAME_S, clock: Callable[[], float] = time.monotonic,
                 sleep: Sleep = threading.Event.wait) -> None:
        self.period_s = period_s
        self._clock = clock
        self._sleep = sleep
        self._woken = threading.Event()
        self._next_tick: float | None = None
        self._woken_frame_at: float | None = None  # the tick a woken frame was last drawn in

    def wake(self) -> None:
        """Something new to show: draw the next frame now (safe from any thread)."""
        self._woken.set()

    def wait(self, stop: threading.Event) -> None:
        """Block until the next frame is due, or until ``stop`` is set (set ``wake`` too, to end at once)."""
        now = self._clock()
        if self._next_tick is None or self._next_tick > now + self.period_s or now - self._next_tick > 1.0:
            self._next_tick = now  # the first frame, or the clock jumped: start the grid afresh
        while self._next_tick <= now:  # ticks missed by a slow frame are skipped, the grid kept
            self._next_tick += self.period_s
        while not stop.is_set():
            now = self._clock()
            if now >= self._next_tick:
                self._woken.clear()  # the tick's frame shows whatever has arrived
                return
            until_tick = min(self._next_tick - now, self.period_s)
            if not self._woken.is_set():
                self._sleep(self._woken, until_tick)
                continue
            tick = self._next_tick - self.period_s
            if self._woken_frame_at != tick:
                self._woken.clear()
                self._woken_frame_at = tick
                return
            self._sleep(stop, until_tick)  # woken twice within one tick: this state waits for the tick


def present_loop(
    frame: Callable[[], list[Rect]],
    present: Callable[[list[Rect]], object],
    pacer: FramePacer,
    stop: threading.Event,
    each: Callable[[], None] = lambda: None,
) -> None:
    """Draw and present frames until ``stop`` is set: ``each()``, ``frame()``, ``present(rects)``, wait."""
    while not stop.is_set():
        each()
        rects = frame()
        if rects:
            present(rects)
        pacer.wait(stop)
