"""The board at the screen sizes a hall has, and when its output changes size.

"Cut" means the fitter had to end a text with "…": the words a customer
should read are not all on the screen.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import pygame
import pytest

from display.board import BoardView
from display.sample import sample_board
from display.text import ELLIPSIS, Fonts
from giliran.config import SiteConfig

SIZES = [(1280, 720), (1920, 1080), (1080, 1920), (1024, 768)]
T = dt.datetime(2026, 11, 24, 10, 24, 37, tzinfo=dt.UTC)


class CutRecorder(Fonts):
    """Fonts that remember every text they had to cut."""

    def __init__(self) -> None:
        super().__init__()
        self.cut: set[str] = set()

    def fit_size(self, text: str, box: tuple[int, int], bold: bool = False) -> tuple[str, int]:
        shown, size = super().fit_size(text, box, bold)
        if shown != text:
            assert shown.endswith(ELLIPSIS)
            self.cut.add(text)
        return shown, size


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", ["busy", "no calls yet", "offline"])
def test_nothing_is_cut(site: SiteConfig, size: tuple[int, int], case: str) -> None:
    state = sample_board(site, T)
    if case == "no calls yet":
        state = msgspec.structs.replace(state, calls=[])
    fonts = CutRecorder()
    view = BoardView(site.display("hall"), site, pygame.Surface(size), clock=T.timestamp, fonts=fonts)
    view.update_state(state)
    if case == "offline":
        view.set_connection(False, T)
    view.render()
    assert fonts.cut == set()


def test_the_board_follows_a_new_surface_size(site: SiteConfig) -> None:
    """After an output resize the whole new screen is the board laid out for it, not the old one in a corner."""
    state = sample_board(site, T)
    display = site.display("hall")
    view = BoardView(display, site, pygame.Surface((1024, 768)), clock=T.timestamp)
    view.update_state(state)
    view.render()
    assert view.render() != [pygame.Rect(0, 0, 1024, 768)]  # nothing to redraw while nothing changed
    screen = pygame.Surface((1920, 1080))
    view.set_surface(screen)
    assert view.render() == [pygame.Rect(0, 0, 1920, 1080)]
    fresh = pygame.Surface((1920, 1080))
    reference = BoardView(display, site, fresh, clock=T.timestamp)
    reference.update_state(state)
    reference.render()
    assert pygame.image.tobytes(screen, "RGB") == pygame.image.tobytes(fresh, "RGB")
