"""The kiosk's time as another node sees it: learned from live board states, carried by the monotonic clock.

No decision in the hall compares two Pis' wall clocks. A counter stamps its
commands with *kiosk* time (so the kiosk can refuse one that waited in an
offline queue), and every node reports how far its own wall clock is from
the kiosk's (``clock_offset_s`` in its status), so a technician sees a Pi
whose clock is off without logging in to it.

Only a board state delivered live (not the retained copy a subscriber gets
at once, which may be a minute old) is used: its ``updated_at`` is the
kiosk's time a little before it arrived, never after. From then on the
kiosk's time is that reading plus this node's monotonic time since, so a
step of this node's own wall clock changes nothing. Each board gives a lower
bound, so the estimate keeps the highest one seen (less ``DRIFT`` per second,
so the two crystals may drift apart): a board that was delayed (queued in
the broker while this node was away) cannot pull it back.

While the kiosk's own clock is catching up (``clock: behind``, its ledger
time running at half pace), counters' stamps run ahead of it, so a command
delayed in the network is refused only once it is late by more than the
expiry plus the catch-up so far; the keypad still refuses keys while
offline.

Example::

    kiosk = KioskTime()
    kiosk.observe(board.updated_at, live=not msg.retain)
    kiosk.now()          # datetime in kiosk time, or None before the first live board
    kiosk.offset_s()     # this node's wall clock minus the kiosk's, e.g. -86400.0
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

#: How fast the estimate may fall back to a lower reading: the crystals of two Pis, and chrony's slewing.
DRIFT = 1e-3


class KioskTime:
    """Thread-safe: boards arrive on the MQTT thread, commands are stamped on a worker."""

    def __init__(self, wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._base: float | None = None  # kiosk epoch seconds minus our monotonic seconds
        self._base_at = 0.0  # our monotonic seconds when _base was last set

    def observe(self, updated_at: dt.datetime, *, live: bool) -> None:
        """Learn from a board state; a retained copy (``live`` false) may be old and is not used."""
        if not live:
            return
        with self._lock:
            m = self._monotonic()
            seen = updated_at.timestamp() - m
            if self._base is None or seen >= self._base - DRIFT * (m - self._base_at):
                self._base, self._base_at = seen, m

    def now(self) -> dt.datetime | None:
        with self._lock:
            if self._base is None:
                return None
            return dt.datetime.fromtimestamp(self._base + self._monotonic(), dt.UTC)

    def offset_s(self) -> float | None:
        """This node's wall clock minus the kiosk's, in whole seconds (None until known)."""
        kiosk = self.now()
        return None if kiosk is None else round(self._wall() - kiosk.timestamp())
