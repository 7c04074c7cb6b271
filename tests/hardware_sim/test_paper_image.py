"""The paper as a picture: right width, ink where the text is, cuts drawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from hardware_sim.paper_image import GAP, PAPER
from hardware_sim.printer import SimulatedPrinter

MakeSim = Callable[..., SimulatedPrinter]


def ink_ratio(img: Image.Image, box: tuple[int, int, int, int]) -> float:
    grey = img.crop(box).convert("L")
    dark = sum(grey.histogram()[:128])
    return dark / (grey.width * grey.height)


@pytest.mark.parametrize(("profile", "width"), [("TM-T20II", 576), ("POS-5890", 384)])
def test_png_has_the_paper_width_and_the_number_is_inked(
    make_sim: MakeSim, tmp_path: Path, profile: str, width: int
) -> None:
    sim = make_sim(profile)
    sim.set(align="center")
    sim.textln("Header")
    sim.set(custom_size=True, width=7, height=8, bold=True)
    sim.textln("A001")
    sim.set(normal_textsize=True, bold=False)
    sim.textln("footer")
    path = sim.paper_png(tmp_path / "paper.png")
    img = Image.open(path)
    assert img.width == width
    box = sim.text_box("A001")
    assert box is not None
    assert ink_ratio(img, box) > 0.15  # a big bold number, not a blank
    left, top, right, bottom = box
    assert ink_ratio(img, (0, top, left, bottom)) == 0  # centred: nothing beside it
    assert img.getpixel((0, img.height - 1)) == PAPER


def test_each_ticket_renders_alone_and_the_paper_shows_the_cut(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.textln("A001")
    sim.cut()
    sim.textln("A002")
    sim.cut()
    whole = sim.paper_image()
    first = sim.paper_image(ticket=0)
    assert first.height < whole.height
    gap_rows = [y for y in range(whole.height) if whole.getpixel((3, y)) == GAP]
    assert gap_rows, "the cut is drawn as a grey band"


def test_inverted_text_is_light_on_dark(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.set(invert=True)
    sim.textln(" COPY ")
    box = sim.text_box(" COPY ")
    assert box is not None
    assert ink_ratio(sim.paper_image(), box) > 0.5
