"""What is on the paper: the printer's physical facts and the items it printed.

A :class:`PaperSpec` says how wide the head is, how big a character cell is,
which code pages and features the model has. The print head
(:mod:`hardware_sim.escpos_render`) turns commands into items (lines of text,
bitmaps, blank feeds, cuts) that read back as text and draw as a picture
(:mod:`hardware_sim.paper_image`).
"""

from __future__ import annotations

from dataclasses import dataclass

from escpos.capabilities import BaseProfile
from PIL import Image

from printer.profile import (
    char_cell_width,
    dpi,
    has_cutter,
    load_profile,
    printable_dots,
    supports_native_qr,
)

#: The line that stands for a cut in plain-text paper.
CUT_MARK = "--- cut ---"

CUTTER_OFFSET_MM = 12.0  # the blade sits above the head, about 12 mm on TM-T20 class printers
_CELL_HEIGHTS = {0: 24, 1: 17}  # font A 12 x 24, font B 9 x 17


@dataclass(frozen=True)
class PaperSpec:
    """The physical facts of one printer model with one paper width."""

    width_dots: int
    dpi: int
    cells: dict[int, tuple[int, int]]
    codepages: dict[int, str]
    native_qr: bool
    cutter: bool
    cutter_offset: int  # dots between the head and the cutter

    @classmethod
    def for_profile(cls, profile: str | BaseProfile, paper_mm: int) -> PaperSpec:
        prof = load_profile(profile) if isinstance(profile, str) else profile
        cells = {
            int(font): (char_cell_width(prof, int(font)), _CELL_HEIGHTS.get(int(font), 24))
            for font in prof.fonts
        }
        return cls(
            width_dots=printable_dots(prof, paper_mm),
            dpi=dpi(prof),
            cells=cells or {0: (12, 24)},
            codepages={int(k): v for k, v in prof.codePages.items()},
            native_qr=supports_native_qr(prof),
            cutter=has_cutter(prof),
            cutter_offset=round(CUTTER_OFFSET_MM * dpi(prof) / 25.4),
        )

    def cell(self, font: int) -> tuple[int, int]:
        return self.cells.get(font) or self.cells[min(self.cells)]


@dataclass(frozen=True)
class Style:
    """Character attributes in force when a character is printed."""

    font: int = 0
    bold: bool = False
    underline: int = 0
    width: int = 1
    height: int = 1
    invert: bool = False


@dataclass(frozen=True)
class Run:
    """Characters of one style, side by side on a line."""

    text: str
    style: Style


@dataclass(frozen=True)
class TextLine:
    """One printed line; ``advance`` is how far the paper moved for it, in dots."""

    runs: tuple[Run, ...]
    align: int
    height: int
    width: int
    advance: int

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs).rstrip()


@dataclass(frozen=True)
class Graphic:
    """A printed bitmap (mode "1", set pixels are ink): an image or a QR code."""

    bitmap: Image.Image
    align: int
    label: str

    @property
    def text(self) -> str:
        return f"[{self.label}]"


@dataclass(frozen=True)
class Feed:
    """Blank paper fed without printing."""

    dots: int


@dataclass(frozen=True)
class Cut:
    """Where the paper was cut (``partial``: a hinge is left) or torn off by hand."""

    partial: bool = False
    torn: bool = False


Item = TextLine | Graphic | Feed | Cut


def piece_text(piece: list[Item]) -> str:
    """A piece's lines of text, without blank lines at either end."""
    lines = [item.text for item in piece if isinstance(item, TextLine | Graphic)]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
