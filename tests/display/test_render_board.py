"""The board as customers see it, checked pixel by pixel on an offscreen surface.

A number "shows" when the inked pixels of its box are exactly those of the
same text rendered alone with the same font and size on the same background;
a wrong number, a number drawn in the wrong place or anything spilling into
the box makes the comparison fail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import msgspec
import pygame
import pytest
from pygame import Rect

from display.board import BoardView
from display.layout import counter_tiles, now_parts, waiting_table
from display.render import number_surface
from display.sample import sample_board, sample_notice, with_call
from display.text import Fonts
from display.theme import Colour, theme_for
from giliran.config import SiteConfig
from giliran.protocol import BoardState, Notice

DISPLAYS = ["hall", "entrance", "lobby"]


@pytest.fixture(scope="module")
def fonts() -> Fonts:
    return Fonts()


Ink = tuple[tuple[int, int], bytes]


def ink(surface: pygame.Surface, rect: Rect, bg: Colour) -> Ink:
    """The size and RGB bytes of everything in ``rect`` that is not background."""
    region = surface.subsurface(rect).copy()
    region.set_colorkey(bg)
    box = region.get_bounding_rect()
    region.set_colorkey(None)
    return box.size, pygame.image.tobytes(region.subsurface(box), "RGB")


def alone(fonts: Fonts, text: str, rect: Rect, colour: Colour, bg: Colour) -> Ink:
    """``text`` as a big number, rendered by itself for a box of ``rect``'s size."""
    ref = pygame.Surface(rect.size)
    ref.fill(bg)
    ref.blit(number_surface(fonts, text, rect.size, colour), (0, 0))
    return ink(ref, ref.get_rect(), bg)


def count(surface: pygame.Surface, colour: Colour, rect: Rect | None = None) -> int:
    """Pixels of exactly ``colour`` in ``rect`` (or the whole surface)."""
    area = surface.subsurface(rect) if rect else surface
    return pygame.mask.from_threshold(area, colour, (1, 1, 1, 255)).count()


class Board:
    """One display's BoardView on an offscreen surface, with the test's clock."""

    def __init__(self, site: SiteConfig, display_id: str, clock, fonts: Fonts) -> None:  # type: ignore[no-untyped-def]
        self.site, self.clock = site, clock
        self.display = site.display(display_id)
        self.theme = theme_for(self.display.theme)
        self.surface = pygame.Surface(self.display.resolution)
        self.view = BoardView(self.display, site, self.surface, clock=clock, fonts=fonts)

    @property
    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), self.site.site.zone)

    def busy(self) -> BoardState:
        """Show the sample state (its newest call is minutes old: no flash) and render it."""
        state = sample_board(self.site, self.now)
        self.view.update_state(state)
        self.view.render()
        return state

    def call(self, state: BoardState, number: str, counter: int) -> BoardState:
        state = with_call(state, number, counter, self.now)
        self.view.update_state(state)
        return state

    def full(self) -> list[Rect]:
        return [self.surface.get_rect()]


@pytest.fixture
def board(site: SiteConfig, clock, fonts: Fonts) -> Callable[[str], Board]:  # type: ignore[no-untyped-def]
    return lambda display_id: Board(site, display_id, clock, fonts)


@pytest.mark.parametrize("display_id", DISPLAYS)
def test_render_now_calling_shows_exactly_the_called_number(board, display_id: str, fonts: Fonts) -> None:  # type: ignore[no-untyped-def]
    b = board(display_id)
    state = b.busy()
    b.call(state, "B123", 4)  # counter 4 is in every display's zone
    b.clock.advance(0.1)
    b.view.render()
    t = b.theme
    number = now_parts(b.view.layout.now, b.view.layout.unit).number
    assert ink(b.surface, number, t.flash_panel) == alone(fonts, "B123", number, t.flash_text, t.flash_panel)
    b.clock.advance(b.display.flash_s)
    b.view.render()
    shown = ink(b.surface, number, t.now_panel)
    assert shown == alone(fonts, "B123", number, t.now_number, t.now_panel)
    for wrong in ("B124", "B12", "8123", "A013", "B1234"):
        assert shown != alone(fonts, wrong, number, t.now_number, t.now_panel), wrong


def test_render_call_outside_the_zone_changes_nothing(board, fonts: Fonts) -> None:  # type: ignore[no-untyped-def]
    b = board("lobby")  # counters 4, 5, 6
    state = b.busy()
    number = now_parts(b.view.layout.now, b.view.layout.unit).number
    before = ink(b.surface, number, b.theme.now_panel)
    b.call(state, "A777", 1)
    assert b.view.render() == []
    assert ink(b.surface, number, b.theme.now_panel) == before


@pytest.mark.parametrize("display_id", DISPLAYS)
def test_render_counters_panel_shows_each_zone_counter(board, display_id: str, fonts: Fonts) -> None:  # type: ignore[no-untyped-def]
    b = board(display_id)
    state = b.busy()
    t, lay = b.theme, b.view.layout
    zone = b.display.counters
    tiles = counter_tiles(lay.counters, len(zone), lay.unit)
    views = {c.id: c for c in state.counters}
    assert any(views[c].state == "paused" for c in zone)
    for cid, tile in zip(zone, tiles, strict=True):
        view = views[cid]
        if view.state == "open":
            assert ink(b.surface, tile.number, t.tile) == alone(fonts, view.serving, tile.number, t.number, t.tile)
            assert count(b.surface, t.paused, tile.cell) == 0
        else:
            assert count(b.surface, t.paused, tile.cell) > 500, "a paused counter is marked in its colour"
            assert ink(b.surface, tile.number, t.tile) != alone(fonts, "P012", tile.number, t.number, t.tile)


@pytest.mark.parametrize("display_id", DISPLAYS)
def test_render_offline_banner_comes_and_goes(board, display_id: str, fonts: Fonts) -> None:  # type: ignore[no-untyped-def]
    b = board(display_id)
    state = b.busy()
    t = b.theme
    newest = state.calls[0].number
    assert b.view.layout.banner is None
    b.view.set_connection(False, state.updated_at)
    assert b.view.render() == b.full()
    banner = b.view.layout.banner
    assert banner is not None and count(b.surface, t.banner, banner) > banner.w * banner.h // 2
    assert count(b.surface, t.banner_text, banner) > 1000, "the banner has words on it"
    # The last known number stays, dimmed.
    number = now_parts(b.view.layout.now, b.view.layout.unit).number
    assert ink(b.surface, number, t.now_panel) == alone(fonts, newest, number, t.dimmed().now_number, t.now_panel)
    b.view.set_connection(True)
    assert b.view.render() == b.full()
    assert b.view.layout.banner is None
    assert count(b.surface, t.banner, banner) == 0
    number = now_parts(b.view.layout.now, b.view.layout.unit).number
    assert ink(b.surface, number, t.now_panel) == alone(fonts, newest, number, t.now_number, t.now_panel)


@pytest.mark.parametrize("display_id", DISPLAYS)
def test_render_before_any_state_says_waiting_for_data(board, display_id: str) -> None:  # type: ignore[no-untyped-def]
    b = board(display_id)
    assert b.view.render() == b.full()
    body = b.view.layout.body
    assert count(b.surface, b.theme.text, body) > 1000
    b.view.set_connection(False)
    assert b.view.render() == b.full()
    assert count(b.surface, b.theme.banner, b.view.layout.banner) > 0
    b.busy()
    assert b.view.layout.banner is not None


def test_render_flash_alternates_on_the_injected_clock_and_stops(board) -> None:  # type: ignore[no-untyped-def]
    b = board("hall")
    state = b.busy()
    t = b.theme
    now = b.view.layout.now
    probe = (now.x + round(12 * b.view.layout.unit), now.centery)
    b.call(state, "A050", 2)
    start = b.clock()
    seen = []
    for half in range(int(b.display.flash_s / 0.5)):
        b.clock.t = start + half * 0.5 + 0.25
        b.view.render()
        seen.append(tuple(b.surface.get_at(probe))[:3])
    assert seen == [t.flash_panel, t.now_panel] * int(b.display.flash_s)
    for after in (0.1, 0.6, 1.1, 5.0):
        b.clock.t = start + b.display.flash_s + after
        dirty = b.view.render()
        assert tuple(b.surface.get_at(probe))[:3] == t.now_panel
        assert now not in dirty or after == 0.1


def test_render_dirty_rects_only_what_changed(board) -> None:  # type: ignore[no-untyped-def]
    b = board("hall")
    state = sample_board(b.site, b.now)
    b.view.update_state(state)
    assert b.view.render() == b.full()
    lay = b.view.layout
    b.clock.advance(0.25)
    assert b.view.render() == []
    b.clock.advance(0.75)  # the next second
    assert b.view.render() == [lay.clock]
    b.clock.advance(0.5)
    assert b.view.render() == []
    b.view.update_state(state)  # the same state again (e.g. a retained re-delivery)
    assert b.view.render() == []
    fewer = [msgspec.structs.replace(c, waiting=c.waiting + 1) if i == 1 else c
             for i, c in enumerate(state.categories)]
    b.view.update_state(msgspec.structs.replace(state, categories=fewer))
    assert b.view.render() == [lay.waiting]
    b.view.update_state(with_call(state, "A060", 3, b.now))
    counter_3 = counter_tiles(lay.counters, len(b.display.counters), lay.unit)[b.display.counters.index(3)].cell
    assert sorted(map(tuple, b.view.render())) == sorted(map(tuple, [lay.now, lay.recent, counter_3, lay.waiting]))


def test_render_text_is_cached_between_frames(board, fonts: Fonts) -> None:  # type: ignore[no-untyped-def]
    b = board("hall")
    b.busy()
    b.view.set_connection(False)
    b.view.render()
    b.view.set_connection(True)
    b.view.render()
    renders = fonts.renders
    b.view.set_connection(False)
    b.view.render()
    b.view.set_connection(True)
    b.view.render()  # full redraws of frames seen before: nothing rendered anew
    assert fonts.renders == renders


def test_render_notice_shows_scrolls_and_expires(board) -> None:  # type: ignore[no-untyped-def]
    b = board("hall")
    b.busy()
    until = b.now + dt.timedelta(seconds=30)
    b.view.set_notice(Notice(text="Kaunter 5 rehat / Counter 5 on a break", until=until))
    assert b.view.render() == b.full()
    strip = b.view.layout.notice
    assert strip is not None and count(b.surface, b.theme.notice, strip) > strip.w * strip.h // 2
    b.clock.advance(0.05)
    assert b.view.render() == [], "a notice that fits stands still"
    b.view.set_notice(sample_notice(b.now))  # too long for the strip: it scrolls
    b.view.render()
    before = pygame.image.tobytes(b.surface.subsurface(strip), "RGB")
    b.clock.advance(0.05)
    assert b.view.render() == [strip]
    assert pygame.image.tobytes(b.surface.subsurface(strip), "RGB") != before
    b.view.set_notice(Notice(text="Tutup 12:30", until=until))
    b.clock.t = until.timestamp() - 1
    b.view.render()
    assert b.view.layout.notice is not None
    b.clock.t = until.timestamp()
    assert b.view.render() == b.full()
    assert b.view.layout.notice is None
    for hidden in (Notice(text="   "), None):
        b.view.set_notice(hidden)
        b.view.render()
        assert b.view.layout.notice is None


def test_render_long_category_names_stay_in_their_cell(board, fonts: Fonts) -> None:  # type: ignore[no-untyped-def]
    b = board("hall")
    state = sample_board(b.site, b.now)
    long = {"ms": "Permohonan Kad Pengenalan Gantian Kerana Hilang, Rosak atau Pertukaran Maklumat " * 2,
            "en": "Replacement identity card for a lost or damaged card, or a change of details " * 2}
    cats = [msgspec.structs.replace(c, name=long) if i == 1 else c for i, c in enumerate(state.categories)]
    b.view.update_state(msgspec.structs.replace(state, categories=cats))
    b.view.render()
    t, lay = b.theme, b.view.layout
    row = waiting_table(lay.waiting, len(cats), lay.unit).rows[1]
    gap = Rect(row.names.right, row.line.y + 1, row.count.left - row.names.right, row.line.h - 2)
    assert ink(b.surface, gap, t.panel)[0] == (0, 0), "the name spills out of its cell"
    assert ink(b.surface, row.count, t.panel) == alone(fonts, str(cats[1].waiting), row.count, t.number, t.panel)
    assert count(b.surface, t.text, row.names) > 200


def test_render_snapshot_saves_what_is_on_the_surface(board, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    b = board("lobby")
    b.busy()
    path = tmp_path / "boards" / "lobby.png"
    b.view.snapshot(path)
    saved = pygame.image.load(str(path))
    assert saved.get_size() == b.display.resolution
    assert pygame.image.tobytes(saved, "RGB") == pygame.image.tobytes(b.surface, "RGB")


def test_render_frame_by_frame_ends_pixel_identical_to_a_fresh_board(board) -> None:  # type: ignore[no-untyped-def]
    """Redrawing only what changed (one counter's tile, say) leaves no trace of what was there before."""
    b = board("hall")
    state = b.busy()
    paused = [msgspec.structs.replace(c, state="paused", serving=None) if c.id == 2 else c for c in state.counters]
    for step in (with_call(state, "A060", 3, b.now),
                 msgspec.structs.replace(state, counters=paused),
                 with_call(msgspec.structs.replace(state, counters=paused), "A061", 2, b.now)):
        b.view.update_state(step)
        b.clock.advance(b.display.flash_s + 1)  # past the flash, so both boards are steady
        b.view.render()
        b.view.set_connection(False)  # dimmed and back: every panel repainted
        b.view.render()
        b.view.set_connection(True)
        b.view.render()
        fresh = board("hall")
        fresh.view.update_state(step)
        fresh.view.render()
        assert pygame.image.tobytes(b.surface, "RGB") == pygame.image.tobytes(fresh.surface, "RGB")


@pytest.mark.parametrize("display_id", DISPLAYS)
def test_render_a_thousandth_number_shows_whole_in_its_tile(board, display_id: str, fonts: Fonts) -> None:  # type: ignore[no-untyped-def]
    b = board(display_id)
    state = b.call(b.busy(), "A1000", 4)
    b.clock.advance(b.display.flash_s + 0.1)
    b.view.render()
    t = b.theme
    number = now_parts(b.view.layout.now, b.view.layout.unit).number
    shown = ink(b.surface, number, t.now_panel)
    assert shown == alone(fonts, "A1000", number, t.now_number, t.now_panel)
    assert shown[0][0] <= number.width and shown[0][1] <= number.height
    zone = b.display.counters
    tile = counter_tiles(b.view.layout.counters, len(zone), b.view.layout.unit)[list(zone).index(4)]
    assert [c.serving for c in state.counters if c.id == 4] == ["A1000"]
    assert ink(b.surface, tile.number, t.tile) == alone(fonts, "A1000", tile.number, t.number, t.tile)
