"""Text on the board: fonts found, text fitted to its box, rendered text cached."""

from __future__ import annotations

import pygame
import pytest

from display.render import number_surface
from display.text import ELLIPSIS, Fonts, find_fonts

WHITE = (255, 255, 255)
LONG_NAME = "Keutamaan: OKU / Warga Emas / Ibu Mengandung"


@pytest.fixture(scope="module")
def fonts() -> Fonts:
    return Fonts()


@pytest.mark.parametrize("text", [LONG_NAME, "Priority: disabled / elderly / pregnant", "MyKad"])
@pytest.mark.parametrize("box", [(700, 40), (300, 40), (120, 30)])
def test_board_text_fits_its_box(fonts: Fonts, text: str, box: tuple[int, int]) -> None:
    surface = fonts.fit(text, box, WHITE)
    assert surface.get_width() <= box[0]
    assert surface.get_height() <= box[1]


def test_board_text_long_names_shrink_short_ones_keep_full_size(fonts: Fonts) -> None:
    box = (420, 40)
    _, short_size = fonts.fit_size("MyKad", box)
    shown, long_size = fonts.fit_size(LONG_NAME, box)
    assert short_size == fonts.line_size(40)
    assert long_size < short_size
    assert shown == LONG_NAME  # shrunk, not cut


def test_board_text_cuts_with_ellipsis_when_shrinking_is_not_enough(fonts: Fonts) -> None:
    shown, size = fonts.fit_size(LONG_NAME * 4, (300, 40))
    assert shown.endswith(ELLIPSIS) and len(shown) < len(LONG_NAME)
    assert size >= fonts.line_size(40) // 2
    assert fonts.fit(LONG_NAME * 4, (300, 40), WHITE).get_width() <= 300


def test_board_text_surfaces_are_cached(fonts: Fonts) -> None:
    first = fonts.text("Menunggu / Waiting", 30, WHITE)
    renders = fonts.renders
    again = fonts.text("Menunggu / Waiting", 30, WHITE)
    assert again is first and fonts.renders == renders
    fonts.fit("Menunggu / Waiting", (500, 50), WHITE)
    renders = fonts.renders
    fonts.fit("Menunggu / Waiting", (500, 50), WHITE)
    assert fonts.renders == renders


def test_board_text_cache_is_bounded() -> None:
    small = Fonts(cache_size=5)
    for i in range(20):
        small.text(f"{i:02d}:00:00", 20, WHITE)
    assert len(small._surfaces) == 5


def test_board_text_number_is_the_numbers_ink(fonts: Fonts) -> None:
    """number_surface draws exactly the glyphs SDL_ttf makes for the text, nothing else."""
    surface = number_surface(fonts, "A013", (600, 250), WHITE)
    size = fonts.ink_size("W888", (600, 250))
    direct = pygame.font.Font(fonts.files.bold, size).render("A013", True, WHITE)
    direct = direct.subsurface(direct.get_bounding_rect())
    assert surface.get_size() == direct.get_size()
    assert pygame.image.tobytes(surface, "RGBA") == pygame.image.tobytes(direct, "RGBA")
    assert surface.get_width() <= 600 and surface.get_height() <= 250


def test_board_text_numbers_share_one_size(fonts: Fonts) -> None:
    """'A111' is not drawn larger than 'W888': both use the template's size (round digits overshoot a little)."""
    heights = [number_surface(fonts, n, (600, 250), WHITE).get_height() for n in ("A111", "W888", "K019")]
    assert max(heights) <= min(heights) * 1.05


def test_board_text_falls_back_to_pygame_font(tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = find_fonts([str(tmp_path)])
    assert files.regular is None and files.bold is None
    surface = Fonts(files).fit("Sila ke kaunter / Silakan ke loket", (600, 40), WHITE)
    assert surface.get_bounding_rect().w > 100


def test_board_text_finds_dejavu_when_installed() -> None:
    files = find_fonts()
    if files.regular is None:
        pytest.skip("fonts-dejavu-core is not installed here")
    assert files.regular.endswith("DejaVuSans.ttf") and files.bold.endswith("DejaVuSans-Bold.ttf")
