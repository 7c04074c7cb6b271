"""A board draws a new call in the frame after it arrives, not at the next tick; the tick and the flash keep time.

The frame loop runs on an injected clock. In the pacer tests a fake sleep
moves that clock (seconds of frames, no real waiting); in the node test the
clock stands still, so no tick ever falls due and the only frames drawn are
the ones a board state's arrival asked for.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pygame
import pytest
from pygame import Rect

from display.board import BoardView
from display.frames import FRAME_S, FramePacer, present_loop
from display.layout import now_parts
from display.node import DisplayNode
from display.render import number_surface
from display.sample import sample_board, with_call
from display.text import Fonts
from display.theme import Colour, theme_for
from giliran.config import SiteConfig
from giliran.protocol import BoardState
from hardware_sim.broker import LocalBroker

T0 = 1_000.0


class Timeline:
    """A fake clock with happenings at set times; sleeping moves the clock to the next one, never waits."""

    def __init__(self, start: float) -> None:
        self.t = start
        self._due: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.t

    def at(self, when: float, action: Callable[[], object]) -> None:
        heapq.heappush(self._due, (when, next(self._order), action))

    def sleep(self, event: threading.Event, seconds: float) -> bool:
        """Like ``event.wait(seconds)``: ends early when a happening sets the event."""
        end = self.t + seconds
        while self._due and self._due[0][0] <= end and not event.is_set():
            when, _, action = heapq.heappop(self._due)
            self.t = max(self.t, when)
            action()
        if not event.is_set():
            self.t = end
        return event.is_set()


def frames_with_wakes(start: float, until: float, *wake_times: float) -> list[float]:
    """When frames are presented (seconds after ``start``) with board states arriving at ``wake_times``."""
    timeline = Timeline(start)
    pacer = FramePacer(FRAME_S, timeline, timeline.sleep)
    stop = threading.Event()
    presented: list[float] = []
    for when in wake_times:
        timeline.at(when, pacer.wake)
    timeline.at(until, stop.set)
    present_loop(lambda: [Rect(0, 0, 1, 1)], lambda _rects: presented.append(timeline()), pacer, stop)
    return [round(t - start, 6) for t in presented]


def test_a_state_arriving_between_ticks_is_drawn_at_once_and_the_ticks_keep_their_grid() -> None:
    assert frames_with_wakes(T0, T0 + 0.27) == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]
    assert frames_with_wakes(T0, T0 + 0.27, T0 + 0.123) == [0.0, 0.05, 0.1, 0.123, 0.15, 0.2, 0.25]


def test_a_second_state_within_one_tick_waits_for_that_tick() -> None:
    """At most one extra frame per tick: a burst of states costs at most twice the frame rate."""
    assert frames_with_wakes(T0, T0 + 0.22, T0 + 0.12, T0 + 0.13, T0 + 0.14) == [0.0, 0.05, 0.1, 0.12, 0.15, 0.2]
    assert frames_with_wakes(T0, T0 + 0.22, T0 + 0.12, T0 + 0.16) == [0.0, 0.05, 0.1, 0.12, 0.15, 0.16, 0.2]


def test_the_flash_starts_in_the_frame_of_the_call_and_alternates_every_half_second(site: SiteConfig) -> None:
    display = site.display("hall")
    theme = theme_for(display.theme)
    start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=site.site.zone).timestamp()
    timeline = Timeline(start)
    pygame.font.init()
    surface = pygame.Surface(display.resolution)
    view = BoardView(display, site, surface, clock=timeline)
    state = sample_board(site, dt.datetime.fromtimestamp(start, site.site.zone))
    view.update_state(state)  # its newest call is minutes old: no flash
    pacer = FramePacer(FRAME_S, timeline, timeline.sleep)
    stop = threading.Event()
    arrival = start + 0.123

    def call() -> None:
        view.update_state(with_call(state, "B123", 4, dt.datetime.fromtimestamp(timeline(), site.site.zone)))
        pacer.wake()

    timeline.at(arrival, call)
    timeline.at(arrival + display.flash_s + 1, stop.set)
    flashing: list[tuple[float, bool]] = []

    def present(_rects: list[Rect]) -> None:
        assert view.layout is not None
        panel = surface.subsurface(view.layout.now)
        lit = pygame.mask.from_threshold(panel, theme.flash_panel, (1, 1, 1, 255)).count()
        flashing.append((round(timeline() - arrival, 6), lit > panel.get_width() * panel.get_height() // 4))

    present_loop(view.render, present, pacer, stop)
    after = [(t, lit) for t, lit in flashing if t >= 0]
    assert after[0] == (0.0, True), "the frame of the call's arrival shows it flashing"
    # Lit in the first half of every second after the arrival, for flash_s; steady afterwards.
    expected = [(t, t < display.flash_s and t % 1.0 < 0.5) for t, _ in after]
    assert after == expected
    # The panel changed only where the flash turns: ~2 changes a second, not every frame.
    assert len(after) < (display.flash_s + 1) * 4


# --- the display node over a real broker, its clock standing still ------------------------------


@pytest.fixture
def broker(site: SiteConfig, tmp_path: Path) -> Iterator[LocalBroker]:
    """A broker per test: the board keeps a persistent session."""
    with LocalBroker(site, tmp_path / "broker") as local:
        yield local


def ink(surface: pygame.Surface, rect: Rect, bg: Colour) -> tuple[tuple[int, int], bytes]:
    """The size and RGB bytes of everything in ``rect`` that is not background."""
    region = surface.subsurface(rect).copy()
    region.set_colorkey(bg)
    box = region.get_bounding_rect()
    region.set_colorkey(None)
    return box.size, pygame.image.tobytes(region.subsurface(box), "RGB")


def test_the_frame_after_a_call_arrives_shows_it_with_no_tick_due(kiosk, broker, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pygame.display.init()
    pygame.font.init()
    display = broker.site.display("entrance")  # no PA: this is about pixels
    theme = theme_for(display.theme)
    node = DisplayNode(broker.site, "entrance", broker.credentials("display-entrance"),
                       pygame.Surface(display.resolution), clock=clock)
    fonts = Fonts()
    presented: list[tuple[BoardState | None, tuple[tuple[int, int], bytes]]] = []
    shown = threading.Condition()
    arrived: list[BoardState | None] = [None]
    drawn = [0]

    def frame() -> list[Rect]:
        arrived[0] = node.state  # what had arrived when this frame began
        rects = node.frame()
        with shown:
            drawn[0] += 1
            shown.notify_all()
        return rects

    def present(_rects: list[Rect]) -> None:
        assert node.view.layout is not None
        box = now_parts(node.view.layout.now, node.view.layout.unit).number
        with shown:
            presented.append((arrived[0], ink(node.surface, box, theme.flash_panel)))
            shown.notify_all()

    stop = threading.Event()
    loop = threading.Thread(target=present_loop, args=(frame, present, node.pacer, stop), daemon=True)
    node.start()
    loop.start()
    try:
        node.mqtt.wait_connected(5)
        with shown:  # the retained board state is on the screen...
            for _ in range(100):  # bounded: 20 s at most
                if shown.wait_for(lambda: any(s is not None and s is node.state for s, _ in presented), 0.2):
                    break
                # A second state within one tick (the kiosk's fresh board after the retained one) waits
                # for the next tick, by design; the clock stands still, so give it that tick.
                clock.advance(FRAME_S)
            else:
                pytest.fail("the board state never reached the screen")
            # ...and one tick later the loop has nothing pending: the next frame can only come from a wake.
            clock.advance(FRAME_S)
            ticked = drawn[0] + 1
            assert shown.wait_for(lambda: drawn[0] >= ticked, 10)
        started_at = clock()
        ledger = kiosk.ledger
        ledger.confirm(ledger.reserve("birth").id)
        number = ledger.next(4).number  # counter 4 is in every board's zone
        kiosk.changed()

        def has_call(state: BoardState | None) -> bool:
            return state is not None and bool(state.calls) and state.calls[0].number == number

        with shown:
            assert shown.wait_for(lambda: any(has_call(s) for s, _ in presented), 10), (
                "no frame was drawn after the call arrived: the board waited for a tick that never came")
        first = next(pixels for state, pixels in presented if has_call(state))
        box = now_parts(node.view.layout.now, node.view.layout.unit).number  # type: ignore[union-attr]
        alone = pygame.Surface(box.size)
        alone.fill(theme.flash_panel)
        alone.blit(number_surface(fonts, number, box.size, theme.flash_text), (0, 0))
        assert first == ink(alone, alone.get_rect(), theme.flash_panel), "the frame shows the called number, flashing"
        assert clock() == started_at, "the board's clock did not move: no tick fell due"
    finally:
        stop.set()
        loop.join(5)
        node.close()
