"""The one seam to GPIO hardware: build gpiozero's pin factory by name.

Devices get the factory passed in (``pin_factory=``); nothing sets gpiozero's
global default. ``GPIOZERO_PIN_FACTORY`` overrides the site file, as gpiozero
users expect. On a Pi 5 only lgpio works, so it is the default.
"""

from __future__ import annotations

import logging
import os

from gpiozero.pins import Factory

log = logging.getLogger(__name__)


def make_pin_factory(name: str) -> Factory:
    """A fresh pin factory: 'lgpio', 'rpigpio', 'native' or 'mock' (the simulator's)."""
    chosen = os.environ.get("GPIOZERO_PIN_FACTORY", name)
    log.info("GPIO pin factory: %s", chosen)
    if chosen == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    if chosen == "lgpio":
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    if chosen == "rpigpio":
        from gpiozero.pins.rpigpio import RPiGPIOFactory

        return RPiGPIOFactory()
    if chosen == "native":
        from gpiozero.pins.native import NativeFactory

        return NativeFactory()
    raise ValueError(f"kiosk.pin_factory / GPIOZERO_PIN_FACTORY {chosen!r}: use lgpio, rpigpio, native or mock")
