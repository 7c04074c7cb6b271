"""Board colours, one palette per ``display.theme``.

A palette names colours by their job on the board (the now-calling number, a
paused counter, the offline banner), so drawing code never picks raw RGB and a
new theme is one more table. ``dimmed()`` derives the "last known numbers"
look used while the board is offline, instead of a fourth hand-made palette.

Example::

    theme = theme_for("dark")
    surface.fill(theme.background)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Colour = tuple[int, int, int]
ThemeName = Literal["dark", "light", "high-contrast"]


@dataclass(frozen=True)
class Theme:
    """The colours one board uses, as RGB triples, named by their job on the board."""

    background: Colour
    panel: Colour
    panel_head: Colour
    head_text: Colour
    rule: Colour
    tile: Colour
    text: Colour
    muted: Colour
    number: Colour
    now_panel: Colour
    now_number: Colour
    now_label: Colour
    flash_panel: Colour
    flash_text: Colour
    badge: Colour
    badge_text: Colour
    paused: Colour
    closed: Colour
    banner: Colour
    banner_text: Colour
    notice: Colour
    notice_text: Colour
    #: Outline tiles in ``rule`` where their fill alone would not set them apart.
    outline_tiles: bool = False

    def dimmed(self) -> Theme:
        """The same theme with queue data faded toward its panel: 'last known, not live'."""

        def fade(colour: Colour) -> Colour:
            return mix(colour, self.panel, 0.55)

        return replace(
            self,
            text=fade(self.text),
            number=fade(self.number),
            now_number=fade(self.now_number),
            badge=fade(self.badge),
            paused=fade(self.paused),
            closed=fade(self.closed),
        )


def mix(a: Colour, b: Colour, t: float) -> Colour:
    """Blend ``a`` toward ``b`` by ``t`` (0 keeps ``a``, 1 gives ``b``)."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


_THEMES: dict[str, Theme] = {
    "dark": Theme(
        background=(8, 17, 33),
        panel=(17, 32, 56),
        panel_head=(27, 49, 84),
        head_text=(190, 205, 228),
        rule=(42, 64, 100),
        tile=(23, 43, 74),
        text=(240, 244, 250),
        muted=(150, 168, 196),
        number=(255, 200, 40),
        now_panel=(12, 56, 112),
        now_number=(255, 255, 255),
        now_label=(190, 210, 240),
        flash_panel=(255, 200, 40),
        flash_text=(8, 17, 33),
        badge=(56, 112, 200),
        badge_text=(255, 255, 255),
        paused=(255, 170, 60),
        closed=(235, 90, 90),
        banner=(200, 30, 40),
        banner_text=(255, 255, 255),
        notice=(255, 200, 40),
        notice_text=(8, 17, 33),
    ),
    "light": Theme(
        background=(226, 232, 240),
        panel=(255, 255, 255),
        panel_head=(0, 63, 135),
        head_text=(255, 255, 255),
        rule=(205, 214, 226),
        tile=(238, 242, 248),
        text=(14, 27, 44),
        muted=(84, 100, 124),
        number=(0, 78, 170),
        now_panel=(0, 63, 135),
        now_number=(255, 255, 255),
        now_label=(205, 222, 245),
        flash_panel=(255, 196, 37),
        flash_text=(14, 27, 44),
        badge=(0, 63, 135),
        badge_text=(255, 255, 255),
        paused=(176, 96, 0),
        closed=(190, 30, 45),
        banner=(190, 30, 45),
        banner_text=(255, 255, 255),
        notice=(14, 27, 44),
        notice_text=(255, 255, 255),
    ),
    "high-contrast": Theme(
        background=(0, 0, 0),
        panel=(0, 0, 0),
        panel_head=(255, 255, 255),
        head_text=(0, 0, 0),
        rule=(255, 255, 255),
        tile=(0, 0, 0),
        text=(255, 255, 255),
        muted=(255, 255, 255),
        number=(255, 255, 0),
        now_panel=(0, 0, 0),
        now_number=(255, 255, 0),
        now_label=(255, 255, 255),
        flash_panel=(255, 255, 0),
        flash_text=(0, 0, 0),
        badge=(255, 255, 255),
        badge_text=(0, 0, 0),
        paused=(0, 255, 255),
        closed=(255, 90, 90),
        banner=(255, 0, 0),
        banner_text=(255, 255, 255),
        notice=(255, 255, 255),
        notice_text=(0, 0, 0),
        outline_tiles=True,
    ),
}


def theme_for(name: ThemeName | str) -> Theme:
    """The palette for a ``display.theme`` value; config validation keeps it known."""
    try:
        return _THEMES[name]
    except KeyError:
        raise KeyError(f"unknown theme {name!r}; known: {sorted(_THEMES)}") from None
