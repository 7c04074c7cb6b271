"""The board a display node shows: state in, dirty rects out.

BoardView owns one surface (the screen, or an offscreen surface in tests and
the simulator) and repaints only the regions whose content changed since the
last frame: the clock once a second, the now-calling panel while it flashes,
the notice while it scrolls, a panel when its data changes. A Pi spends most
of the day with nothing to redraw, and ``render`` then costs microseconds.

Time comes from the injected clock, epoch seconds like the rest of Giliran
(``now`` for a frame, the clock for the moment a new call arrived), so tests
step through a flash without sleeping.

Example::

    view = BoardView(site.display("hall"), site, pygame.display.set_mode((1920, 1080)))
    view.update_state(board_state)          # from the retained 'board' topic
    pygame.display.update(view.render())    # call ~20 times a second
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path

import pygame
from pygame import Rect

from display.labels import Labels
from display.layout import BoardLayout, board_layout, counter_tiles
from display.model import BoardModel, board_model
from display.render import (
    Painter,
    draw_banner,
    draw_clock,
    draw_counter_tile,
    draw_counters,
    draw_no_data,
    draw_notice,
    draw_now,
    draw_recent,
    draw_site,
    draw_waiting,
    notice_offset,
)
from display.text import Fonts
from display.theme import theme_for
from giliran.config import Display, SiteConfig
from giliran.protocol import BoardState, Notice

log = logging.getLogger(__name__)

Clock = Callable[[], float]
#: The now-calling panel swaps colours every this many seconds while it flashes.
FLASH_HALF_PERIOD_S = 0.5

Region = tuple[str, Rect, Hashable, Callable[[], None]]


class BoardView:
    """A queue board for one display of a site.

    Feed it with ``update_state``, ``set_notice`` and ``set_connection`` (from
    any thread), and call ``render`` from the thread that owns the screen;
    pass the rects it returns to ``pygame.display.update``. ``clock`` returns
    epoch seconds (``time.time``); the wall clock shown is in the site's time zone.
    """

    def __init__(
        self,
        display: Display,
        site: SiteConfig,
        surface: pygame.Surface,
        clock: Clock = time.time,
        fonts: Fonts | None = None,
    ) -> None:
        self._display = display
        self._site = site
        self._surface = surface
        self._clock = clock
        self._fonts = fonts or Fonts()
        self._labels = Labels(site.site.languages)
        self._theme = theme_for(display.theme)
        self._lock = threading.Lock()
        self._model: BoardModel | None = None
        self._flash_from: float | None = None
        self._notice: Notice | None = None
        self._notice_since = clock()
        self._online = True
        self._last_update: dt.datetime | None = None
        self._layout: BoardLayout | None = None
        self._had_data = False
        self._drawn: dict[str, Hashable] = {}
        w, h = surface.get_size()
        if (display.orientation == "portrait") != (h > w):
            log.warning("display %s is set %s but its surface is %dx%d; laying out for the surface",
                        display.id, display.orientation, w, h)

    @property
    def layout(self) -> BoardLayout | None:
        """The regions of the last rendered frame (None before the first)."""
        return self._layout

    def set_surface(self, surface: pygame.Surface) -> None:
        """Draw on ``surface`` from now on (the screen after an output resize): the next
        ``render`` lays the board out for its size and repaints it all. Call it from the
        thread that renders."""
        self._surface = surface
        self._layout = None

    def update_state(self, state: BoardState) -> None:
        """Show a new board state; a new newest call in this zone starts the flash."""
        model = board_model(state, self._display, self._site, self._labels)
        now = self._clock()
        with self._lock:
            old = self._model
            new_id = model.now.call_id if model.now else None
            if new_id is not None and (old is None or old.now is None or old.now.call_id != new_id):
                self._flash_from = now if old is not None else self._call_time(state, new_id, now)
            self._model = model
            self._last_update = state.updated_at

    def _call_time(self, state: BoardState, call_id: int, now: float) -> float | None:
        """On the first state after a start, flash only a call made within flash_s."""
        at = next((c.at.timestamp() for c in state.calls if c.call_id == call_id), None)
        if at is not None and 0 <= now - at < self._display.flash_s:
            return at
        return None

    def set_notice(self, notice: Notice | None) -> None:
        """Show (or, with None or empty text, hide) the notice line; it hides itself after ``until``."""
        with self._lock:
            if notice != self._notice:
                self._notice = notice
                self._notice_since = self._clock()

    def set_connection(self, online: bool, last_update: dt.datetime | None = None) -> None:
        """Whether the numbers are live; offline shows a banner and dims the last known numbers."""
        with self._lock:
            self._online = online
            if last_update is not None:
                self._last_update = last_update

    def render(self, now: float | None = None) -> list[Rect]:
        """Repaint what changed since the last call; the changed rects (empty when nothing did)."""
        now = self._clock() if now is None else now
        with self._lock:
            model, online, last_update = self._model, self._online, self._last_update
            flash_from, notice, notice_since = self._flash_from, self._notice, self._notice_since
        text = _visible_notice(notice, now)
        layout = board_layout(self._surface.get_size(), banner=not online, notice=text is not None)
        painter = Painter(self._surface, self._fonts, self._theme, self._labels, layout.unit)
        full = layout != self._layout or (model is not None) != self._had_data
        if full:
            self._layout, self._had_data = layout, model is not None
            self._drawn.clear()
            self._surface.fill(self._theme.background)
        dirty = []
        regions = self._regions(painter, layout, now, model, online, last_update, flash_from)
        if text is not None and layout.notice is not None:
            regions = _chain(regions, _notice_region(painter, layout.notice, text, now - notice_since))
        for name, rect, key, draw in regions:
            if self._drawn.get(name, _NOTHING) != key:
                draw()
                self._drawn[name] = key
                dirty.append(rect)
        if full:
            return [self._surface.get_rect()]
        return dirty

    def _regions(
        self,
        p: Painter,
        layout: BoardLayout,
        now: float,
        model: BoardModel | None,
        online: bool,
        last_update: dt.datetime | None,
        flash_from: float | None,
    ) -> Iterator[Region]:
        """Every region of this frame with the key that says what it shows."""
        zone = self._site.site.zone
        local = dt.datetime.fromtimestamp(now, zone)
        names = tuple(self._labels.names(self._site.site.name))
        yield "site", layout.site, names, lambda: draw_site(p, layout.site, names)
        time_text, date_text = local.strftime("%H:%M:%S"), self._labels.date(local.date())
        yield ("clock", layout.clock, (time_text, date_text),
               lambda: draw_clock(p, layout.clock, time_text, date_text))
        banner = layout.banner
        if banner is not None:
            updated = _short_time(last_update, local, zone)
            yield "banner", banner, updated, lambda: draw_banner(p, banner, updated)
        if model is None:
            yield "no_data", layout.body, None, lambda: draw_no_data(p, layout.body)
            return
        data = p if online else p.with_theme(self._theme.dimmed())
        flash = self._flash_phase(now, flash_from)
        yield ("now", layout.now, (model.now, flash, online),
               lambda: draw_now(data, layout.now, model.now, flash))
        slots, cols = self._display.recent_calls, 3 if layout.portrait else 2
        yield ("recent", layout.recent, (model.recent, online),
               lambda: draw_recent(data, layout.recent, model.recent, slots, cols))
        # The panel, then each tile on its own: a call redraws one tile. A tile's key holds the
        # panel's, so whatever repaints the panel repaints every tile after it.
        panel = (len(model.counters), online)
        yield "counters", layout.counters, panel, lambda: draw_counters(data, layout.counters)
        tiles = counter_tiles(layout.counters, len(model.counters), layout.unit)
        for i, (cell, tile) in enumerate(zip(tiles, model.counters, strict=True)):
            yield (f"counter{i}", cell.cell, (tile, panel),
                   lambda cell=cell, tile=tile: draw_counter_tile(data, cell, tile))  # type: ignore[misc]
        yield ("waiting", layout.waiting, (model.categories, online),
               lambda: draw_waiting(data, layout.waiting, model.categories))

    def _flash_phase(self, now: float, flash_from: float | None) -> bool:
        """True in the highlighted half of each flash period, for flash_s after a new call."""
        if flash_from is None:
            return False
        elapsed = now - flash_from
        if not 0 <= elapsed < self._display.flash_s:
            return False
        return int(elapsed / FLASH_HALF_PERIOD_S) % 2 == 0

    def snapshot(self, path: Path) -> None:
        """Save the surface as last rendered (PNG by the suffix) for docs, tests and technicians."""
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self._surface, str(path))
        log.info("saved board snapshot %s", path)


_NOTHING = object()


def _chain(regions: Iterator[Region], *more: Region) -> Iterator[Region]:
    yield from regions
    yield from more


def _notice_region(p: Painter, strip: Rect, text: str, shown_s: float) -> Region:
    """The notice line; its key holds the scroll offset, so it repaints only while it moves."""
    offset = notice_offset(p, strip, text, shown_s)
    return "notice", strip, (text, offset), lambda: draw_notice(p, strip, text, offset)


def _visible_notice(notice: Notice | None, now: float) -> str | None:
    """The notice text to show, or None when there is none, it is blank or it has expired."""
    if notice is None or not notice.text.strip():
        return None
    if notice.until is not None and now >= notice.until.timestamp():
        return None
    return " ".join(notice.text.split())


def _short_time(at: dt.datetime | None, local_now: dt.datetime, zone: dt.tzinfo) -> str | None:
    """When the last update came, as 'HH:MM', with the date when it was not today."""
    if at is None:
        return None
    local = at.astimezone(zone)
    return local.strftime("%H:%M" if local.date() == local_now.date() else "%d/%m %H:%M")

