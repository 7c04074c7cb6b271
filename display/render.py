"""Drawing the board's panels, one function per panel.

Each function paints one region completely (its background included) from a
model record, so the board can repaint any single region on its own and hand
just that rect to the screen. Nothing here keeps state or reads a clock; the
caller says what to show and whether the now-calling panel is in its flash
phase.

Example::

    painter = Painter(surface, Fonts(), theme_for("dark"), Labels(["ms", "en"]), unit=1.0)
    draw_now(painter, layout.now, model.now, flash=False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import pygame
from pygame import Rect

from display.labels import Labels
from display.layout import (
    Tile,
    WaitingRow,
    now_parts,
    panel_parts,
    recent_cells,
    split_v,
    waiting_table,
)
from display.model import CategoryRow, CounterTile, NowCall, RecentCall
from display.text import Fonts
from display.theme import Colour, Theme

Align = Literal["left", "center", "right"]

#: Big numbers are sized for this template, so every ticket number looks alike.
NUMBER_TEMPLATE = "W888"
#: Notice ticker speed, in pixels per second on a 1080-pixel-high screen.
NOTICE_SPEED = 150


@dataclass(frozen=True)
class Painter:
    """Where and with what to draw: the target surface, fonts, colours and words."""

    surface: pygame.Surface
    fonts: Fonts
    theme: Theme
    labels: Labels
    unit: float

    def with_theme(self, theme: Theme) -> Painter:
        return replace(self, theme=theme)

    def px(self, n: float) -> int:
        """``n`` pixels of a 1080-line board, scaled to this screen."""
        return max(1, round(n * self.unit))

    def panel(self, rect: Rect, colour: Colour, border: Colour | None = None) -> None:
        """A rounded panel on the board background; it covers its whole rect.

        Only the four corners outside the rounding are cleared to the background: the
        panel covers the rest, and filling a large rect twice costs a millisecond.
        """
        radius = self.px(14)
        for x in (rect.left, rect.right - radius):
            for y in (rect.top, rect.bottom - radius):
                pygame.draw.rect(self.surface, self.theme.background, (x, y, radius, radius))
        pygame.draw.rect(self.surface, colour, rect, border_radius=radius)
        if border is not None:
            pygame.draw.rect(self.surface, border, rect, width=self.px(2), border_radius=radius)

    def tile(self, rect: Rect) -> None:
        """A tile inside a panel (a counter, an earlier call)."""
        pygame.draw.rect(self.surface, self.theme.tile, rect, border_radius=self.px(10))
        if self.theme.outline_tiles:
            pygame.draw.rect(self.surface, self.theme.rule, rect, width=self.px(2), border_radius=self.px(10))

    def text(self, text: str, rect: Rect, colour: Colour, *, bold: bool = False, align: Align = "left") -> Rect:
        """``text`` fitted into ``rect`` and blitted there, centred vertically."""
        surface = self.fonts.fit(text, rect.size, colour, bold)
        return self.surface.blit(surface, _aligned(surface.get_rect(), rect, align))

    def number(self, text: str, rect: Rect, colour: Colour, align: Align = "center") -> Rect:
        """A ticket number as large as ``rect`` allows; see number_surface."""
        surface = number_surface(self.fonts, text, rect.size, colour)
        return self.surface.blit(surface, _aligned(surface.get_rect(), rect, align))

    def lines(self, texts: Sequence[str], rect: Rect, colours: Sequence[Colour], align: Align = "left") -> None:
        """One line per text, stacked; the first is bold and gets the most room."""
        if not texts:
            return
        shares = [1.0] + [0.72] * (len(texts) - 1)
        for i, (line, box) in enumerate(zip(texts, split_v(rect, shares), strict=True)):
            self.text(line, box, colours[min(i, len(colours) - 1)], bold=i == 0, align=align)


def number_surface(fonts: Fonts, text: str, box: tuple[int, int], colour: Colour) -> pygame.Surface:
    """A ticket number's inked pixels at the size where NUMBER_TEMPLATE fills ``box``."""
    template = text if len(text) > len(NUMBER_TEMPLATE) else NUMBER_TEMPLATE
    return fonts.ink(text, fonts.ink_size(template, box), colour)


def _aligned(item: Rect, box: Rect, align: Align) -> Rect:
    item = item.copy()
    item.centery = box.centery
    if align == "left":
        item.left = box.left
    elif align == "right":
        item.right = box.right
    else:
        item.centerx = box.centerx
    return item


def draw_site(p: Painter, rect: Rect, names: Sequence[str]) -> None:
    """The site's name in each language, the first one largest."""
    pygame.draw.rect(p.surface, p.theme.background, rect)
    inner = rect.inflate(0, -p.px(22))
    p.lines(names, inner, [p.theme.text, p.theme.muted])


def draw_clock(p: Painter, rect: Rect, time_text: str, date_text: str) -> None:
    pygame.draw.rect(p.surface, p.theme.background, rect)
    time_box, date_box = split_v(rect.inflate(0, -p.px(18)), [0.62, 0.38])
    p.text(time_text, time_box, p.theme.text, bold=True, align="right")
    p.text(date_text, date_box, p.theme.muted, align="right")


def draw_banner(p: Painter, rect: Rect, updated: str | None) -> None:
    """The offline warning: the numbers below are the last ones known, maybe old."""
    t = p.theme
    pygame.draw.rect(p.surface, t.banner, rect)
    pad = p.px(16)
    inner = rect.inflate(-2 * pad, -p.px(14))
    icon = Rect(inner.x, inner.y, inner.h, inner.h)
    _warning_icon(p, icon.inflate(-p.px(8), -p.px(8)))
    text_box = Rect(icon.right + pad, inner.y, inner.right - icon.right - pad, inner.h)
    detail = p.labels.both("last_known")
    if updated:
        detail += f"  ·  {p.labels.both('last_update')} {updated}"
    p.lines([p.labels.both("offline"), detail], text_box, [t.banner_text])


def _warning_icon(p: Painter, box: Rect) -> None:
    colour, ink = p.theme.banner_text, p.theme.banner
    triangle = [(box.centerx, box.top), (box.right, box.bottom), (box.left, box.bottom)]
    pygame.draw.polygon(p.surface, colour, triangle)
    mark = Rect(0, 0, box.w // 3, box.h * 2 // 3)
    mark.midbottom = (box.centerx, box.bottom - box.h // 12)
    p.text("!", mark, ink, bold=True, align="center")


def draw_now(p: Painter, rect: Rect, now: NowCall | None, flash: bool) -> None:
    """The newest call: its number huge, its counter under it; inverted while flashing."""
    t = p.theme
    bg = t.flash_panel if flash else t.now_panel
    fg = t.flash_text if flash else t.now_number
    sub = t.flash_text if flash else t.now_label
    p.panel(rect, bg, t.rule)
    parts = now_parts(rect, p.unit)
    p.text(p.labels.both("now_calling").upper(), parts.title.inflate(-p.px(40), -p.px(16)), sub,
           bold=True, align="center")
    if now is None:
        p.number("—", parts.number, fg)
        # One language a line, all the same size: joined on one line they were cut.
        words = p.labels.each("no_call")
        for line, box in zip(words, split_v(parts.counter.union(parts.counter_sub), [1.0] * len(words)),
                             strict=True):
            p.text(line, box, sub, align="center")
        return
    p.number(now.number, parts.number, fg)
    p.text(now.counter[0], parts.counter, fg, bold=True, align="center")
    details = list(now.counter[1:])
    if now.recall:
        details.append(p.labels.both("recall"))
    p.text("  ·  ".join(details), parts.counter_sub, sub, align="center")


def _titled_panel(p: Painter, rect: Rect, title: str) -> None:
    """A panel with a title strip."""
    t = p.theme
    p.panel(rect, t.panel, t.rule)
    head, _ = panel_parts(rect, p.unit)
    strip = head.inflate(-2 * p.px(2), 0)
    strip.top = rect.top + p.px(2)
    pygame.draw.rect(p.surface, t.panel_head, strip, border_top_left_radius=p.px(12),
                     border_top_right_radius=p.px(12))
    p.text(title, head.inflate(-p.px(40), -p.px(18)), t.head_text, bold=True)


def draw_recent(p: Painter, rect: Rect, calls: Sequence[RecentCall], slots: int, cols: int) -> None:
    """Earlier calls, newest first, for customers who looked away."""
    t = p.theme
    _titled_panel(p, rect, p.labels.both("recent"))
    for (cell, number, counter), call in zip(recent_cells(rect, slots, cols, p.unit), calls, strict=False):
        p.tile(cell)
        p.number(call.number, number, t.number, align="left")
        p.text(call.counter, counter, t.text, align="right")


def draw_counters(p: Painter, rect: Rect) -> None:
    """The counters panel without its tiles (draw_counter_tile draws each, in ``counter_tiles``' cells).

    A call changes one counter's tile, and the board redraws that tile alone.
    """
    _titled_panel(p, rect, f"{p.labels.both('counter')}  ·  {p.labels.both('number')}")


def draw_counter_tile(p: Painter, parts: Tile, tile: CounterTile) -> None:
    """One zone counter: its name and the number it serves, or why none; covers its whole cell."""
    t = p.theme
    state_colour = {"paused": t.paused, "closed": t.closed}.get(tile.state)
    p.tile(parts.cell)
    if state_colour is not None:
        pygame.draw.rect(p.surface, state_colour, parts.cell, width=p.px(4), border_radius=p.px(10))
    p.text(tile.names[0], parts.name, t.text, bold=True)
    info = list(tile.names[1:2]) + ([" ".join(tile.prefixes)] if tile.prefixes else [])
    p.text("  ·  ".join(info), parts.info, t.muted)
    if state_colour is not None:
        words = p.labels.each("paused" if tile.state == "paused" else "closed")
        p.lines(words, parts.state, [state_colour], align="center")
    elif tile.serving:
        p.number(tile.serving, parts.number, t.number)
    else:
        p.text("—", parts.state.inflate(0, -parts.state.h // 4), t.muted, bold=True, align="center")


def draw_waiting(p: Painter, rect: Rect, categories: Sequence[CategoryRow]) -> None:
    """Per service: how many wait and roughly how long, so customers can plan."""
    t = p.theme
    p.panel(rect, t.panel, t.rule)
    table = waiting_table(rect, len(categories), p.unit)
    pygame.draw.rect(p.surface, t.panel_head, table.strip, border_top_left_radius=p.px(12),
                     border_top_right_radius=p.px(12))
    headings = zip(("service", "waiting", "est_wait"), table.columns, ("left", "center", "right"), strict=True)
    for key, box, align in headings:
        p.lines(p.labels.each(key), box, [t.head_text], align=align)  # type: ignore[arg-type]
    for i, (parts, row) in enumerate(zip(table.rows, categories, strict=True)):
        if i:
            line = parts.line
            pygame.draw.line(p.surface, t.rule, (parts.badge.x, line.y), (parts.est.right, line.y), p.px(1))
        _category_row(p, parts, row)


def _category_row(p: Painter, parts: WaitingRow, row: CategoryRow) -> None:
    t = p.theme
    badge = parts.badge
    pygame.draw.rect(p.surface, t.badge, badge, border_radius=p.px(8))
    p.text(row.prefix, badge.inflate(-badge.w // 4, -badge.h // 5), t.badge_text, bold=True, align="center")
    p.lines(row.names, parts.names, [t.text, t.muted])
    p.number(str(row.waiting), parts.count, t.number)
    if row.no_counter:
        p.text(row.est_wait, parts.est, t.closed, bold=True, align="right")  # "No counter today"
    elif row.available:
        p.text(row.est_wait, parts.est, t.text, align="right")
    else:
        p.text(p.labels.both("closed"), parts.est, t.closed, bold=True, align="right")


def notice_parts(p: Painter, rect: Rect) -> tuple[Rect, Rect]:
    """The notice strip's tag ("Notis / Notice") and the area the text scrolls in."""
    tag_w = min(rect.w // 3, p.fonts.fit(p.labels.both("notice"), (rect.w, rect.h * 5 // 10),
                                         p.theme.notice, True).get_width() + p.px(60))
    tag = Rect(rect.x, rect.y, tag_w, rect.h)
    area = Rect(tag.right + p.px(24), rect.y, rect.right - tag.right - p.px(48), rect.h)
    return tag, area


def notice_offset(p: Painter, rect: Rect, text: str, elapsed_s: float) -> int | None:
    """How far the ticker has moved after ``elapsed_s``; None when the text fits and stands still."""
    _, area = notice_parts(p, rect)
    width = _notice_text(p, area, text).get_width()
    if width <= area.w:
        return None
    period = width + area.w // 3
    return int(elapsed_s * NOTICE_SPEED * p.unit) % period


def _notice_text(p: Painter, area: Rect, text: str) -> pygame.Surface:
    return p.fonts.text(text, p.fonts.line_size(area.h * 6 // 10), p.theme.notice_text)


def draw_notice(p: Painter, rect: Rect, text: str, offset: int | None) -> None:
    """The notice line; a text too long for the strip scrolls right to left, repeating."""
    t = p.theme
    pygame.draw.rect(p.surface, t.notice, rect)
    tag, area = notice_parts(p, rect)
    pygame.draw.rect(p.surface, t.notice_text, tag)
    p.text(p.labels.both("notice"), tag.inflate(-p.px(40), -rect.h // 2), t.notice, bold=True, align="center")
    surface = _notice_text(p, area, text)
    if offset is None:
        p.surface.blit(surface, _aligned(surface.get_rect(), area, "left"))
        return
    period = surface.get_width() + area.w // 3
    clip = p.surface.get_clip()
    p.surface.set_clip(area)
    x = area.x - offset
    while x < area.right:
        p.surface.blit(surface, (x, area.centery - surface.get_height() // 2))
        x += period
    p.surface.set_clip(clip)


def draw_no_data(p: Painter, rect: Rect) -> None:
    """Before the first board state: say so, rather than show an empty or made-up board."""
    pygame.draw.rect(p.surface, p.theme.background, rect)
    box = Rect(0, 0, rect.w * 7 // 10, min(rect.h // 4, rect.w // 6))
    box.center = rect.center
    p.lines(p.labels.each("no_data"), box, [p.theme.text, p.theme.muted], align="center")
