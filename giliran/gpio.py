"""The one seam to GPIO hardware: build gpiozero's pin factory by name.

Devices get the factory passed in (``pin_factory=``); nothing sets gpiozero's
global default. ``GPIOZERO_PIN_FACTORY`` overrides the site file, as gpiozero
users expect. On a Pi 5 only lgpio works, so it is the default.

Off a Pi the real factories fail (lgpio not installed: ``ModuleNotFoundError``;
no Pi board or GPIO chip: gpiozero's ``PinUnknownPi``). That becomes one
:class:`MissingDependency` line, which the units do not restart on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from gpiozero.pins import Factory

from giliran.errors import MissingDependency

log = logging.getLogger(__name__)


def _lgpio() -> Factory:
    from gpiozero.pins.lgpio import LGPIOFactory

    return LGPIOFactory()


def _rpigpio() -> Factory:
    from gpiozero.pins.rpigpio import RPiGPIOFactory

    return RPiGPIOFactory()


def _native() -> Factory:
    from gpiozero.pins.native import NativeFactory

    return NativeFactory()


REAL_FACTORIES: dict[str, Callable[[], Factory]] = {"lgpio": _lgpio, "rpigpio": _rpigpio, "native": _native}


def make_pin_factory(name: str) -> Factory:
    """A fresh pin factory: 'lgpio', 'rpigpio', 'native' or 'mock' (the simulator's).

    Raises :class:`MissingDependency` when a real factory cannot start here.
    """
    chosen = os.environ.get("GPIOZERO_PIN_FACTORY", name)
    log.info("GPIO pin factory: %s", chosen)
    if chosen == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    if chosen not in REAL_FACTORIES:
        raise ValueError(f"kiosk.pin_factory / GPIOZERO_PIN_FACTORY {chosen!r}: use lgpio, rpigpio, native or mock")
    try:
        return REAL_FACTORIES[chosen]()
    except Exception as exc:  # ImportError, PinUnknownPi, lgpio.error: whatever the backend raises
        raise MissingDependency(
            f"GPIO pin factory {chosen!r} cannot start on this machine ({type(exc).__name__}: {exc}); "
            "on a Raspberry Pi install the [pi] extra, elsewhere set GPIOZERO_PIN_FACTORY=mock") from exc
