"""Fonts, cached text surfaces and fitting text into a box.

Rendering a string with SDL_ttf costs far more than blitting the result, and a
board shows the same few hundred strings all day, so every rendered surface is
kept in a small LRU cache. Sizes are *fitted*: a string gets the largest size
whose line fits its box, so a long category name shrinks instead of running
into the next column; below half the box's natural size it is cut with "…".

Fonts: DejaVu Sans (Debian ``fonts-dejavu-core``) when installed, which covers
Malay, Indonesian and English and most of Latin; otherwise pygame's bundled
default font, which covers plain Latin.

Example::

    fonts = Fonts()
    label = fonts.fit("Menunggu / Waiting", (400, 48), (255, 255, 255))
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import pygame

from display.theme import Colour

log = logging.getLogger(__name__)

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
)
ELLIPSIS = "…"
#: A fitted line below this share of its height-limited size is cut instead.
MIN_SHRINK = 0.5

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A bounded mapping that forgets the least recently used entry."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._size:
            self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class FontFiles:
    """TTF paths for regular and bold text; None means pygame's bundled font."""

    regular: str | None
    bold: str | None


def find_fonts(dirs: Sequence[str] = FONT_DIRS) -> FontFiles:
    """DejaVu Sans if any of ``dirs`` has it, else pygame's bundled default font."""
    for folder in dirs:
        regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
        if regular.is_file() and bold.is_file():
            return FontFiles(str(regular), str(bold))
    log.warning("DejaVu Sans not found in %s; using pygame's bundled font", list(dirs))
    return FontFiles(None, None)


class Fonts:
    """Loaded fonts and rendered text, both cached, for one board.

    ``text`` renders a string at a size; ``fit`` picks the size for a box first.
    Surfaces are shared from the cache: blit them, never draw on them.
    """

    def __init__(self, files: FontFiles | None = None, cache_size: int = 600) -> None:
        pygame.font.init()
        self.files = files or find_fonts()
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._surfaces: LRU[tuple[str, int, bool, Colour], pygame.Surface] = LRU(cache_size)
        self._inks: LRU[tuple[str, int, bool, Colour], pygame.Surface] = LRU(cache_size)
        self._fits: LRU[tuple[str, int, int, bool], tuple[str, int]] = LRU(cache_size)
        self.renders = 0

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        key = (size, bold)
        font = self._fonts.get(key)
        if font is None:
            font = self._fonts[key] = pygame.font.Font(self.files.bold if bold else self.files.regular, size)
        return font

    def text(self, text: str, size: int, colour: Colour, bold: bool = False) -> pygame.Surface:
        """``text`` rendered antialiased on a transparent surface, from the cache when seen before."""
        key = (text, size, bold, colour)
        surface = self._surfaces.get(key)
        if surface is None:
            self.renders += 1
            surface = self._surfaces.put(key, _render(self.font(size, bold), text, colour))
        return surface

    def line_size(self, height: int, bold: bool = False) -> int:
        """The largest font size whose line (ascent + descent) fits in ``height`` pixels."""
        size = max(1, int(height / 1.2))
        while size > 1 and self.font(size, bold).get_height() > height:
            size -= 1
        return size

    def fit_size(self, text: str, box: tuple[int, int], bold: bool = False) -> tuple[str, int]:
        """The text to draw (maybe cut with "…") and its size, for a ``box`` of (width, height)."""
        key = (text, box[0], box[1], bold)
        cached = self._fits.get(key)
        if cached is not None:
            return cached
        width = max(1, box[0])
        size = self.line_size(box[1], bold)
        measured = self.font(size, bold).size(text)[0]
        if measured > width:
            floor = max(1, int(size * MIN_SHRINK))
            size = max(floor, int(size * width / measured))
            while size > floor and self.font(size, bold).size(text)[0] > width:
                size -= 1
            text = self._cut(text, width, size, bold)
        return self._fits.put(key, (text, size))

    def _cut(self, text: str, width: int, size: int, bold: bool) -> str:
        font = self.font(size, bold)
        if font.size(text)[0] <= width:
            return text
        while text and font.size(text.rstrip() + ELLIPSIS)[0] > width:
            text = text[:-1]
        return text.rstrip() + ELLIPSIS if text else ""

    def fit(self, text: str, box: tuple[int, int], colour: Colour, bold: bool = False) -> pygame.Surface:
        """``text`` rendered at the largest size that fits ``box``; see fit_size."""
        shown, size = self.fit_size(text, box, bold)
        return self.text(shown, size, colour, bold)

    def ink_size(self, template: str, box: tuple[int, int], bold: bool = True) -> int:
        """The size at which ``template``'s inked pixels (not its line) just fill ``box``.

        Big numbers use this: the digits, not the font's line gap, should fill
        the panel, and fitting a template such as "W888" keeps every number the
        same size instead of "I111" towering over "W888".
        """
        key = (template, box[0], box[1], bold)
        cached = self._fits.get(key)
        if cached is not None:
            return cached[1]
        size = 100
        ink = _render(self.font(size, bold), template, (255, 255, 255)).get_bounding_rect()
        size = max(1, int(size * min(box[0] / max(1, ink.w), box[1] / max(1, ink.h))))
        while size > 1:
            ink = _render(self.font(size, bold), template, (255, 255, 255)).get_bounding_rect()
            if ink.w <= box[0] and ink.h <= box[1]:
                break
            size -= 1
        self._fits.put(key, (template, size))
        return size

    def ink(self, text: str, size: int, colour: Colour, bold: bool = True) -> pygame.Surface:
        """``text`` cropped to its inked pixels, so it can be centred by what the eye sees."""
        key = (text, size, bold, colour)
        surface = self._inks.get(key)
        if surface is None:
            full = self.text(text, size, colour, bold)
            surface = self._inks.put(key, full.subsurface(full.get_bounding_rect()))
        return surface


def _render(font: pygame.font.Font, text: str, colour: Colour) -> pygame.Surface:
    """``text`` drawn antialiased, whatever it holds.

    SDL_ttf raises on a NUL character and on text that draws nothing (only
    U+200B, say); a board must draw any name or notice it is sent, so NULs are
    dropped and an empty line is an empty surface of the line's height.
    """
    text = text.replace("\x00", "")
    try:
        return font.render(text, True, colour)
    except pygame.error:  # "Text has zero width"
        return pygame.Surface((0, font.get_height()), pygame.SRCALPHA)
