"""Which button presses become tickets: debounce and cool-down on an injected clock.

gpiozero's mock pins ignore ``bounce_time`` and a real contact bounces, so
both rules are ours, pure, and tested with a clock the test moves:

- **debounce**: an edge within ``debounce_ms`` of the previous edge on the
  same button is contact bounce, not a press;
- **cool-down**: after a ticket, the same button is ignored for
  ``cooldown_s``, so a child cannot empty the paper roll. Ignored presses are
  counted for the kiosk's status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class PressFilter:
    debounce_s: float
    cooldown_s: float
    clock: Callable[[], float]
    ignored: int = 0
    _last_edge: dict[str, float] = field(default_factory=dict)
    _last_ticket: dict[str, float] = field(default_factory=dict)

    def accept(self, button: str) -> bool:
        """True when this press of ``button`` should issue a ticket."""
        now = self.clock()
        last_edge = self._last_edge.get(button)
        self._last_edge[button] = now
        if last_edge is not None and now - last_edge < self.debounce_s:
            return False  # bounce: not a press, not counted
        last_ticket = self._last_ticket.get(button)
        if last_ticket is not None and now - last_ticket < self.cooldown_s:
            self.ignored += 1
            return False
        self._last_ticket[button] = now
        return True
