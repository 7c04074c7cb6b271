"""Board layout: every region on screen, none overlapping, the same board at any size."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pygame import Rect

from display.layout import (
    BoardLayout,
    board_layout,
    counter_columns,
    counter_tiles,
    now_parts,
    recent_cells,
    waiting_table,
)

SIZES = [(1920, 1080), (1280, 720), (1080, 1920)]


def regions(lay: BoardLayout) -> dict[str, Rect]:
    named = {
        "site": lay.site, "clock": lay.clock, "banner": lay.banner, "now": lay.now,
        "recent": lay.recent, "counters": lay.counters, "waiting": lay.waiting, "notice": lay.notice,
    }
    return {k: v for k, v in named.items() if v is not None}


def assert_tidy(lay: BoardLayout) -> None:
    screen = Rect((0, 0), lay.size)
    found = regions(lay)
    for name, rect in found.items():
        assert rect.w > 0 and rect.h > 0, name
        assert screen.contains(rect), f"{name} {rect} leaves the screen {screen}"
    for (a, ra), (b, rb) in itertools.combinations(found.items(), 2):
        assert not ra.colliderect(rb), f"{a} {ra} overlaps {b} {rb}"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("banner", [False, True])
@pytest.mark.parametrize("notice", [False, True])
def test_board_layout_regions_fit_and_do_not_overlap(size: tuple[int, int], banner: bool, notice: bool) -> None:
    lay = board_layout(size, banner=banner, notice=notice)
    assert_tidy(lay)
    assert (lay.banner is not None) == banner
    assert (lay.notice is not None) == notice


@given(w=st.integers(320, 3840), h=st.integers(240, 3840), banner=st.booleans(), notice=st.booleans())
def test_board_layout_any_resolution_is_tidy(w: int, h: int, banner: bool, notice: bool) -> None:
    assert_tidy(board_layout((w, h), banner=banner, notice=notice))


def test_board_layout_720p_is_1080p_scaled() -> None:
    big = regions(board_layout((1920, 1080), banner=True, notice=True))
    small = regions(board_layout((1280, 720), banner=True, notice=True))
    for name, rect in big.items():
        scaled = [round(v * 2 / 3) for v in rect]
        assert all(abs(a - b) <= 2 for a, b in zip(scaled, small[name], strict=True)), (name, rect, small[name])


def test_board_layout_portrait_stacks_panels() -> None:
    lay = board_layout((1080, 1920), banner=False, notice=True)
    assert lay.portrait
    order = [lay.now, lay.counters, lay.recent, lay.waiting]
    assert all(a.bottom <= b.top for a, b in itertools.pairwise(order))
    assert all(r.w == lay.body.w for r in order)


def test_board_layout_landscape_puts_now_calling_left_and_large() -> None:
    lay = board_layout((1920, 1080), banner=False, notice=False)
    assert not lay.portrait
    assert lay.now.right < lay.counters.left
    assert lay.now.h > lay.body.h / 2


@pytest.mark.parametrize("size", SIZES)
def test_board_layout_panel_parts_stay_inside_their_panel(size: tuple[int, int]) -> None:
    lay = board_layout(size, banner=True, notice=True)
    parts = now_parts(lay.now, lay.unit)
    for rect in (parts.title, parts.number, parts.counter, parts.counter_sub):
        assert lay.now.contains(rect)
    assert parts.number.h > parts.counter.h > 0
    for n in (1, 3, 6, 12):
        tiles = counter_tiles(lay.counters, n, lay.unit)
        assert len(tiles) == n
        for tile in tiles:
            assert lay.counters.contains(tile.cell)
            assert all(tile.cell.contains(r) for r in (tile.name, tile.info, tile.number, tile.state))
        assert not any(a.cell.colliderect(b.cell) for a, b in itertools.combinations(tiles, 2))
    table = waiting_table(lay.waiting, 6, lay.unit)
    for row in table.rows:
        assert lay.waiting.contains(row.line)
        cells = (row.badge, row.names, row.count, row.est)
        assert not any(a.colliderect(b) for a, b in itertools.combinations(cells, 2))
    for cell, number, counter in recent_cells(lay.recent, 6, 3 if lay.portrait else 2, lay.unit):
        assert lay.recent.contains(cell) and cell.contains(number) and cell.contains(counter)


@pytest.mark.parametrize(("n", "cols"), [(1, 1), (3, 3), (4, 2), (5, 3), (6, 3), (8, 3), (9, 3), (10, 4), (12, 4)])
def test_board_layout_counter_columns(n: int, cols: int) -> None:
    assert counter_columns(n) == cols
