"""A counter's keys: the staff keypad and the customers' satisfaction buttons, as gpiozero Buttons.

Every key is a pull-up Button (the key connects its GPIO to ground) on the
pin factory passed in. Each press edge goes through the KeyGuard (debounce,
key-repeat guard); a press that passes is handed to ``on_key`` by name. The
handler runs on lgpio's thread on a Pi, on the presser's thread with mock
pins: it must be quick and thread-safe (the CounterDesk only queues work).

Key names: ``next``, ``recall``, ``no_show``, ``done``, ``transfer``, ``pause``
(``[counters.keypad]``) and ``very_good``, ``good``, ``poor``
(``[counters.feedback]``). A key without a pin in the site file is not wired.

Example (mock pins, as in the simulator)::

    keypad = Keypad(site.counter(3), MockFactory(), guard, desk.key)
    keypad.press("next")        # drives GPIO5 low, then high
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gpiozero import Button
from gpiozero.pins import Factory
from gpiozero.pins.mock import MockPin

from giliran.config import Counter
from giliran.errors import GiliranError
from giliran.press_guard import KeyGuard

log = logging.getLogger(__name__)


class Keypad:
    """The wired keys of one counter, by name."""

    def __init__(self, counter: Counter, pin_factory: Factory, guard: KeyGuard,
                 on_key: Callable[[str], object]) -> None:
        self.counter = counter
        self.guard = guard
        self._on_key = on_key
        self.buttons: dict[str, Button] = {}
        try:
            for key, pin in {**counter.keypad.pins(), **counter.feedback.pins()}.items():
                button = Button(pin, pull_up=True, pin_factory=pin_factory)
                button.when_pressed = self._pressed_handler(key)
                button.when_released = self._released_handler(key)
                self.buttons[key] = button
        except Exception:
            self.close()
            raise

    def _pressed_handler(self, key: str) -> Callable[[], None]:
        def pressed() -> None:
            try:
                if self.guard.pressed(key):
                    self._on_key(key)
                else:
                    log.debug("counter %d: %s press dropped (bounce or repeat)", self.counter.id, key)
            except Exception:  # the GPIO thread must survive a bad press
                log.exception("counter %d: handling the %s key failed", self.counter.id, key)
        return pressed

    def _released_handler(self, key: str) -> Callable[[], None]:
        return lambda: self.guard.released(key)

    def press(self, key: str) -> None:
        """Press and release ``key`` on mock pins: the simulator's finger."""
        button = self.buttons.get(key.replace("-", "_"))
        if button is None:
            wired = ", ".join(self.buttons) or "none"
            raise GiliranError(f"counter {self.counter.id} has no {key!r} key wired (wired: {wired})")
        pin = button.pin
        if not isinstance(pin, MockPin):
            raise GiliranError(f"counter {self.counter.id}: press() drives mock pins only, not {type(pin).__name__}")
        pin.drive_low()
        pin.drive_high()

    def close(self) -> None:
        for button in self.buttons.values():
            button.close()
        self.buttons.clear()
