"""The ledger's clock: wall time that never runs backwards and does not follow a jump it cannot trust.

A Raspberry Pi has no real-time clock. It may boot at the time it saved at
shutdown (fake-hwclock), be stepped back an hour by NTP, or forward a day by
a bad time server. The ledger must not reorder, renumber or expire anything
because of that, so it reads time through this class:

- **Never backwards.** Ledger time is the wall clock, but never less than
  the last ledger time. A wall clock behind it is *behind*: the ledger keeps
  counting at half the monotonic pace (so durations stay roughly right and
  the wall catches up in twice the gap: an hour back is over in two) and
  reports ``clock: behind by 3600 s`` until the wall catches up.
- **A big forward step while running is held.** If the wall clock moves more
  than ``STEP_S`` ahead of the monotonic pace, the ledger keeps its own time
  (``ahead by 86400 s, held``) until the step has lasted ``CONFIRM_S`` with
  no step back; a clock that comes back within that time changed nothing.
- **A boot at the ledger's last time is unconfirmed.** When the Pi booted
  less than ``BOOT_S`` ago (the monotonic clock counts from boot), the
  kernel does not report its clock synchronized (``synced``: chrony sets
  that), and the clock reads no later than ``SUSPECT_S`` after the ledger's
  last entry, the time is what fake-hwclock saved, not the time of day. The
  ledger then does not apply opening hours (the hall is open while the kiosk
  is on) until the clock is set: a forward step is taken at once, as the
  correction it is, and the kernel reporting sync ends the state too.

Example::

    clock = LedgerClock(time.time, time.monotonic, last_at=1764000000.0)
    clock.now()              # ledger time, never below 1764000000.0
    clock.reading().text     # 'ok', 'behind by 3600 s', ...
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

#: A wall clock this far behind ledger time is reported (smaller differences are noise).
BEHIND_TOLERANCE_S = 2.0
#: While the wall clock is behind, ledger time runs at this fraction of the monotonic pace.
BEHIND_PACE = 0.5
#: A forward step larger than this, while running, is held (chrony slews small errors; NTP steps big ones).
STEP_S = 300.0
#: A held step that lasts this long (monotonic) without a step back is taken.
CONFIRM_S = 600.0
#: The Pi booted less than this ago: its clock may still be fake-hwclock's saved time.
BOOT_S = 900.0
#: A boot-time clock this close after the ledger's last entry (or behind it) is fake-hwclock's, unconfirmed.
SUSPECT_S = 3600.0
#: A forward step at least this big ends the unconfirmed state: the clock was set.
SET_S = 30.0

ClockState = Literal["ok", "behind", "held", "unconfirmed"]


@dataclass(frozen=True)
class ClockReading:
    """What the ledger knows about the wall clock: ``offset_s`` is wall minus ledger time."""

    state: ClockState
    offset_s: float

    @property
    def text(self) -> str:
        match self.state:
            case "behind":
                return f"behind by {-self.offset_s:.0f} s"
            case "held":
                return f"ahead by {self.offset_s:.0f} s, held"
            case "unconfirmed":
                return "unconfirmed: the Pi booted at its saved time; opening hours are not applied"
        return "ok"


class LedgerClock:
    """Ledger time from a wall clock and a monotonic clock (both injected), starting after ``last_at``."""

    def __init__(self, wall: Callable[[], float], monotonic: Callable[[], float], last_at: float | None,
                 synced: Callable[[], bool] | None = None) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._synced = synced or (lambda: False)
        w, m = wall(), monotonic()
        self._unconfirmed = (last_at is not None and m < BOOT_S and w < last_at + SUSPECT_S
                             and not self._synced())
        self._anchor_t = max(w, last_at) if last_at is not None else w
        self._anchor_m = m
        self._held_since: float | None = None
        self._held_offset = 0.0
        self._accepted = False
        self._reading = ClockReading("ok", 0.0)
        self._update(w, m)
        if self._unconfirmed:
            log.warning("clock: the Pi booted %.0f s ago at %.0f, within %.0f s of the ledger's last entry:"
                        " unconfirmed", m, w, SUSPECT_S)

    @property
    def unconfirmed(self) -> bool:
        return self._unconfirmed

    def now(self) -> float:
        return self._update(self._wall(), self._monotonic())

    def reading(self) -> ClockReading:
        """The state found by the last ``now()``."""
        return self._reading

    def accept(self) -> None:
        """A technician says the wall clock is right: take a held step and end the unconfirmed state."""
        self._accepted = True
        self._unconfirmed = False

    def _update(self, w: float, m: float) -> float:
        elapsed = max(0.0, m - self._anchor_m)
        floor = self._anchor_t + elapsed
        ahead = w - floor
        slow = self._anchor_t + elapsed * BEHIND_PACE
        if w < slow - BEHIND_TOLERANCE_S:
            self._held_since = None
            t, reading = slow, ClockReading("behind", w - slow)
        elif ahead > STEP_S and not self._take_step(ahead, m):
            t, reading = floor, ClockReading("held", ahead)
        else:
            if self._unconfirmed and (ahead >= SET_S or self._synced()):
                self._unconfirmed = False
                log.warning("clock: set (%.0f s forward) or synchronized; confirmed", ahead)
            self._held_since = None
            self._accepted = False
            t = max(w, slow)
            reading = ClockReading("unconfirmed" if self._unconfirmed else "ok", w - t)
        self._anchor_t, self._anchor_m = t, m
        if reading.state != self._reading.state:
            log.warning("clock: %s", reading.text)
        self._reading = reading
        return t

    def _take_step(self, ahead: float, m: float) -> bool:
        """Whether a forward step of ``ahead`` seconds is taken now (else it is held)."""
        if self._unconfirmed or self._accepted:
            return True
        if self._held_since is None or abs(ahead - self._held_offset) > STEP_S:
            self._held_since, self._held_offset = m, ahead  # a new step: confirmation starts again
        return m - self._held_since >= CONFIRM_S
