"""The category buttons: gpiozero Buttons whose presses pass the debounce / cool-down guard.

With lgpio, presses arrive on lgpio's thread; with mock pins, in the thread
that drives the pin. Either way the issuer serialises them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gpiozero import Button
from gpiozero.pins import Factory

from giliran.config import SiteConfig
from giliran.press_guard import KeyGuard

log = logging.getLogger(__name__)


class CategoryButtons:
    """One pull-up Button per category that has a ``button_pin``."""

    def __init__(self, site: SiteConfig, pin_factory: Factory, presses: KeyGuard,
                 on_press: Callable[[str], object]) -> None:
        self.presses = presses
        self._on_press = on_press
        self._buttons: dict[str, Button] = {}
        for cat in site.categories:
            if cat.button_pin is None:
                continue
            button = Button(cat.button_pin, pull_up=True, pin_factory=pin_factory)
            button.when_pressed = self._handler(cat.id)
            button.when_released = self._release_handler(cat.id)
            self._buttons[cat.id] = button

    def _handler(self, category: str) -> Callable[[], None]:
        def pressed() -> None:
            if self.presses.pressed(category):
                self._on_press(category)
            else:
                log.debug("press of %s filtered (bounce or cool-down)", category)
        return pressed

    def _release_handler(self, category: str) -> Callable[[], None]:
        return lambda: self.presses.released(category)

    def close(self) -> None:
        for button in self._buttons.values():
            button.close()
