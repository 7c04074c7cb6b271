"""Where each part of the board goes: pure functions from screen sizes to rects.

Nothing here draws or knows about queue data, so a layout can be checked for
any resolution without a screen. Sizes are shares of the screen and of a
``unit`` (the shorter side / 1080), never pixel constants, so 1920x1080 and
1280x720 are the same board scaled, and a portrait screen (taller than wide)
stacks the same panels in one column.

Example::

    lay = board_layout((1920, 1080), banner=False, notice=True)
    lay.now          # Rect of the "now calling" panel
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pygame import Rect

Size = tuple[int, int]


@dataclass(frozen=True)
class BoardLayout:
    """Every region of one board. ``banner`` and ``notice`` are None when not shown."""

    size: Size
    unit: float
    portrait: bool
    site: Rect
    clock: Rect
    banner: Rect | None
    body: Rect
    now: Rect
    recent: Rect
    counters: Rect
    waiting: Rect
    notice: Rect | None


@dataclass(frozen=True)
class NowParts:
    """Inside the now-calling panel: its title, the number, and the counter lines."""

    title: Rect
    number: Rect
    counter: Rect
    counter_sub: Rect


def board_layout(size: Size, *, banner: bool, notice: bool) -> BoardLayout:
    """The board's regions for a screen of ``size``; portrait when taller than wide."""
    w, h = size
    unit = min(w, h) / 1080
    gap = round(16 * unit)
    header_h = round(h * (0.072 if h > w else 0.105))
    site = Rect(gap, 0, round(w * 0.68) - gap, header_h)
    clock = Rect(site.right + gap, 0, w - site.right - 2 * gap, header_h)
    top = header_h
    banner_rect = None
    if banner:
        banner_rect = Rect(0, top, w, round(h * (0.05 if h > w else 0.085)))
        top = banner_rect.bottom
    bottom = h
    notice_rect = None
    if notice:
        notice_h = round(h * (0.042 if h > w else 0.068))
        notice_rect = Rect(0, h - notice_h, w, notice_h)
        bottom = notice_rect.top
    body = Rect(gap, top + gap, w - 2 * gap, bottom - top - 2 * gap)
    panels = _portrait(body, gap) if h > w else _landscape(body, gap)
    return BoardLayout(size, unit, h > w, site, clock, banner_rect, body, *panels, notice_rect)


def _landscape(body: Rect, gap: int) -> tuple[Rect, Rect, Rect, Rect]:
    left_w = round(body.w * 0.41)
    left = Rect(body.x, body.y, left_w, body.h)
    right = Rect(left.right + gap, body.y, body.w - left_w - gap, body.h)
    now, recent = split_v(left, [0.6, 0.4], gap)
    counters, waiting = split_v(right, [0.47, 0.53], gap)
    return now, recent, counters, waiting


def _portrait(body: Rect, gap: int) -> tuple[Rect, Rect, Rect, Rect]:
    now, counters, recent, waiting = split_v(body, [0.27, 0.31, 0.13, 0.29], gap)
    return now, recent, counters, waiting


def split_v(rect: Rect, shares: Sequence[float], gap: int = 0) -> list[Rect]:
    """Stack rects top to bottom, sized by ``shares`` of the height left after the gaps."""
    free = rect.h - gap * (len(shares) - 1)
    total = sum(shares)
    out, y = [], rect.y
    for i, share in enumerate(shares):
        h = rect.bottom - y if i == len(shares) - 1 else round(free * share / total)
        out.append(Rect(rect.x, y, rect.w, h))
        y += h + gap
    return out


def split_h(rect: Rect, shares: Sequence[float], gap: int) -> list[Rect]:
    """Place rects left to right, sized by ``shares`` of the width left after the gaps."""
    free = rect.w - gap * (len(shares) - 1)
    total = sum(shares)
    out, x = [], rect.x
    for i, share in enumerate(shares):
        w = rect.right - x if i == len(shares) - 1 else round(free * share / total)
        out.append(Rect(x, rect.y, w, rect.h))
        x += w + gap
    return out


def panel_parts(panel: Rect, unit: float, head: float = 58) -> tuple[Rect, Rect]:
    """A panel's title strip (``head`` pixels high on a 1080-line board) and the body under it."""
    head_h = round(head * unit)
    return Rect(panel.x, panel.y, panel.w, head_h), Rect(panel.x, panel.y + head_h, panel.w, panel.h - head_h)


def now_parts(panel: Rect, unit: float) -> NowParts:
    """The now-calling panel: the number takes most of it, the counter sits under it."""
    title, body = panel_parts(panel, unit)
    pad = round(24 * unit)
    inner = body.inflate(-2 * pad, -pad)
    number, counter, counter_sub = split_v(inner, [0.6, 0.24, 0.16], round(8 * unit))
    return NowParts(title, number, counter, counter_sub)


@dataclass(frozen=True)
class Tile:
    """One counter's tile: its name lines and the box for the number (or its state)."""

    cell: Rect
    name: Rect
    info: Rect
    number: Rect
    state: Rect


@dataclass(frozen=True)
class WaitingRow:
    """One service's line: prefix badge, names, waiting count and estimated wait."""

    line: Rect
    badge: Rect
    names: Rect
    count: Rect
    est: Rect


@dataclass(frozen=True)
class WaitingTable:
    strip: Rect
    columns: tuple[Rect, Rect, Rect]
    rows: list[WaitingRow]


#: Widths of the waiting table's columns: service, waiting, estimated wait.
WAITING_COLUMNS = (0.64, 0.16, 0.20)


def counter_columns(n: int) -> int:
    """Tile columns for ``n`` counters: up to three per row, four when there are many."""
    n_rows = -(-n // (4 if n > 9 else 3)) if n else 1
    return max(1, -(-n // n_rows))


def counter_tiles(panel: Rect, n: int, unit: float) -> list[Tile]:
    """The counters panel as ``n`` tiles in rows; the number takes the lower two thirds."""
    _, body = panel_parts(panel, unit)
    pad = round(18 * unit)
    tiles = []
    for cell in grid(body.inflate(-2 * pad, -2 * pad), n, counter_columns(n), round(14 * unit)):
        inner = cell.inflate(-round(28 * unit), -round(16 * unit))
        head_h = min(round(inner.h * 0.38), round(84 * unit))
        head = Rect(inner.x, inner.y, inner.w, head_h)
        main = Rect(inner.x, head.bottom, inner.w, inner.h - head_h)
        name, info = split_v(head, [0.6, 0.4])
        number = main.inflate(-main.w // 10, -main.h // 5).move(0, main.h // 20)
        state = Rect(0, 0, main.w, min(main.h * 3 // 4, round(110 * unit)))
        state.center = main.center
        tiles.append(Tile(cell, name, info, number, state))
    return tiles


def recent_cells(panel: Rect, n: int, cols: int, unit: float) -> list[tuple[Rect, Rect, Rect]]:
    """Cells for earlier calls: (cell, number box, counter box)."""
    _, body = panel_parts(panel, unit)
    pad = round(18 * unit)
    out = []
    for cell in grid(body.inflate(-2 * pad, -2 * pad), max(n, 1), cols, round(14 * unit)):
        inner = cell.inflate(-round(24 * unit), -round(10 * unit))
        number, counter = split_h(inner, [0.48, 0.52], round(12 * unit))
        out.append((cell, number, counter.inflate(0, -number.h // 4)))
    return out


def waiting_table(panel: Rect, n: int, unit: float) -> WaitingTable:
    """The waiting panel: column headings (two lines) in the title strip, then one row per service."""
    head, body = panel_parts(panel, unit, head=68)
    edge, pad = round(2 * unit), round(20 * unit)
    strip = Rect(panel.x + edge, panel.y + edge, panel.w - 2 * edge, head.h - edge)
    columns = split_h(head.inflate(-2 * pad, -round(10 * unit)), WAITING_COLUMNS, pad)
    table = []
    for line in rows(body.inflate(0, -round(12 * unit)), n, round(110 * unit)):
        inner = line.inflate(-2 * pad, -round(10 * unit))
        name, count, est = split_h(inner, WAITING_COLUMNS, pad)
        badge = Rect(name.x, name.y, name.h, name.h).inflate(-round(6 * unit), -round(6 * unit))
        names = Rect(badge.right + pad, name.y, name.right - badge.right - pad, name.h)
        table.append(WaitingRow(line, badge, names, count.inflate(0, -count.h // 3), est.inflate(0, -est.h // 3)))
    return WaitingTable(strip, (columns[0], columns[1], columns[2]), table)


def rows(body: Rect, n: int, max_h: int) -> list[Rect]:
    """``n`` equal rows filling ``body`` from the top, none taller than ``max_h``."""
    if n <= 0:
        return []
    h = min(max_h, body.h // n)
    return [Rect(body.x, body.y + i * h, body.w, h) for i in range(n)]


def grid(body: Rect, n: int, cols: int, gap: int) -> list[Rect]:
    """``n`` cells in ``cols`` columns, filled row by row."""
    if n <= 0:
        return []
    n_rows = -(-n // cols)
    cells = []
    for row in split_v(body, [1] * n_rows, gap):
        cells.extend(split_h(row, [1] * cols, gap))
    return cells[:n]
