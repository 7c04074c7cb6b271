"""The lamps in the category buttons: what a customer can read from them.

steady = press me; blinking = printing your ticket; off = closed, outside
hours or quota reached; every lamp blinking fast = printer fault, call staff.
"""

from __future__ import annotations

import logging
from enum import Enum

from gpiozero import LED
from gpiozero.pins import Factory

from giliran.config import SiteConfig

log = logging.getLogger(__name__)

PRINTING_BLINK_S = 0.25
FAULT_BLINK_S = 0.1


class LampMode(Enum):
    READY = "ready"
    PRINTING = "printing"
    OFF = "off"
    FAULT = "fault"


class Lamps:
    """One LED per category that has a ``lamp_pin``; modes are set by category id."""

    def __init__(self, site: SiteConfig, pin_factory: Factory) -> None:
        self._leds = {c.id: LED(c.lamp_pin, pin_factory=pin_factory)
                      for c in site.categories if c.lamp_pin is not None}
        self._modes: dict[str, LampMode] = {}

    def mode(self, category: str) -> LampMode | None:
        return self._modes.get(category)

    def set(self, category: str, mode: LampMode) -> None:
        led = self._leds.get(category)
        if led is None or self._modes.get(category) == mode:
            self._modes[category] = mode
            return
        self._modes[category] = mode
        if mode is LampMode.READY:
            led.on()
        elif mode is LampMode.OFF:
            led.off()
        elif mode is LampMode.PRINTING:
            led.blink(on_time=PRINTING_BLINK_S, off_time=PRINTING_BLINK_S)
        else:
            led.blink(on_time=FAULT_BLINK_S, off_time=FAULT_BLINK_S)

    def close(self) -> None:
        for led in self._leds.values():
            led.close()
