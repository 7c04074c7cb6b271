"""Which button edges are real presses: debounce and a repeat guard on an injected clock.

Shared by the kiosk's category buttons (the repeat guard is the cool-down
that stops a child emptying the paper roll) and the counter keypads.

gpiozero's mock pins ignore ``bounce_time``, and a worn key bounces or
glitches while it is held, so the rules are ours, pure, and tested with a
clock the test moves:

- **debounce**: a press edge within ``debounce_s`` of the same key's last
  release edge is contact bounce (the key never really let go): dropped,
  not counted. This also covers glitches while a key is held down.
- **repeat guard**: a press within ``repeat_s`` of the same key's last
  accepted press is dropped and counted in ``ignored`` (reported in the
  node's status). At a counter, two quick Next presses would otherwise call a
  customer and at once skip them; at the kiosk, it is the ticket cool-down.

Keys listed in ``free_keys`` (Transfer, which steps through its targets)
have no repeat guard, only debounce.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field


@dataclass
class KeyGuard:
    debounce_s: float
    repeat_s: float
    clock: Callable[[], float]
    free_keys: Collection[str] = ()
    ignored: int = 0
    _released: dict[str, float] = field(default_factory=dict)
    _accepted: dict[str, float] = field(default_factory=dict)

    def pressed(self, key: str) -> bool:
        """True when this press edge of ``key`` is a press to act on."""
        now = self.clock()
        released = self._released.get(key)
        if released is not None and now - released < self.debounce_s:
            return False
        accepted = self._accepted.get(key)
        if key not in self.free_keys and accepted is not None and now - accepted < self.repeat_s:
            self.ignored += 1
            return False
        self._accepted[key] = now
        return True

    def released(self, key: str) -> None:
        self._released[key] = self.clock()
