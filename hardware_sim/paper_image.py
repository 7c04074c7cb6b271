"""Draw printed paper as a picture, one printer dot to one pixel.

Text is drawn with a real monospace TrueType font (DejaVu Sans Mono, else
Liberation Mono or FreeMono, else Pillow's default font) squeezed into the
printer's character cells (12 x 24 dots for font A), so sizes, emphasis,
alignment and wrapping look as they do on the printer. Cuts show as a dashed
line across a grey gap between the pieces.

Example::

    image = render(paper.items, paper.spec)
    image.save("ticket.png")
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence

from PIL import Image, ImageDraw, ImageFont

from hardware_sim.paper_model import Cut, Feed, Graphic, Item, PaperSpec, Style, TextLine

log = logging.getLogger(__name__)

PAPER = (250, 250, 246)
INK = (24, 24, 28)
GAP = (196, 198, 204)
CUT_BAND = 24  # pixels of grey drawn between two pieces of paper

_FONT_FILES = {
    False: ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf", "FreeMono.ttf"),
    True: ("DejaVuSansMono-Bold.ttf", "LiberationMono-Bold.ttf", "FreeMonoBold.ttf"),
}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class FontBook:
    """Finds a monospace font once per weight and keeps each size it is asked for."""

    def __init__(self) -> None:
        self._paths: dict[bool, str | None] = {}
        self._fonts: dict[tuple[bool, int], Font] = {}

    def get(self, bold: bool, size: int) -> Font:
        key = (bold, size)
        if key not in self._fonts:
            self._fonts[key] = self._load(bold, size)
        return self._fonts[key]

    def _load(self, bold: bool, size: int) -> Font:
        if bold not in self._paths:
            self._paths[bold] = _find_font(bold)
        path = self._paths[bold]
        if path:
            return ImageFont.truetype(path, size)
        return ImageFont.load_default(size)


def _find_font(bold: bool) -> str | None:
    for name in _FONT_FILES[bold]:
        try:
            return str(ImageFont.truetype(name, 10).path)
        except OSError:
            continue
    log.warning("no monospace TrueType font found (install fonts-dejavu-core); using Pillow's default")
    return None


def placements(items: Sequence[Item], spec: PaperSpec) -> Iterator[tuple[Item, int, int]]:
    """Each item with its top ``y`` and its height on the paper, in dots."""
    y = 0
    for item in items:
        if isinstance(item, TextLine):
            height = item.advance
        elif isinstance(item, Graphic):
            height = item.bitmap.height
        elif isinstance(item, Feed):
            height = item.dots
        else:
            height = CUT_BAND
        yield item, y, height
        y += height


def line_x(width: int, align: int, spec: PaperSpec) -> int:
    """Left edge of something ``width`` dots wide under ESC a alignment ``align``."""
    if align == 1:
        return max(0, (spec.width_dots - width) // 2)
    if align == 2:
        return max(0, spec.width_dots - width)
    return 0


def char_width(style: Style, spec: PaperSpec) -> int:
    return spec.cell(style.font)[0] * style.width


def text_box(items: Sequence[Item], spec: PaperSpec, needle: str) -> tuple[int, int, int, int] | None:
    """Pixel box (left, top, right, bottom) of the first printed ``needle``, if any."""
    for item, y, _ in placements(items, spec):
        if not isinstance(item, TextLine):
            continue
        chars = [(ch, run.style) for run in item.runs for ch in run.text]
        text = "".join(ch for ch, _ in chars)
        start = text.find(needle)
        if start < 0:
            continue
        x = line_x(item.width, item.align, spec)
        left = x + sum(char_width(s, spec) for _, s in chars[:start])
        right = left + sum(char_width(s, spec) for _, s in chars[start : start + len(needle)])
        return left, y, right, y + item.height
    return None


def render(items: Sequence[Item], spec: PaperSpec, fonts: FontBook | None = None) -> Image.Image:
    """The picture of ``items`` at the printer's width (384 dots for 58 mm, 576 for 80 mm)."""
    fonts = fonts or FontBook()
    placed = list(placements(items, spec))
    height = max(1, sum(h for _, _, h in placed))
    page = Image.new("RGB", (spec.width_dots, height), PAPER)
    draw = ImageDraw.Draw(page)
    for item, y, h in placed:
        if isinstance(item, TextLine):
            _draw_line(page, item, y, spec, fonts)
        elif isinstance(item, Graphic):
            x = line_x(item.bitmap.width, item.align, spec)
            page.paste(INK, (x, y, x + item.bitmap.width, y + item.bitmap.height), item.bitmap)
        elif isinstance(item, Cut):
            draw.rectangle((0, y, spec.width_dots, y + h - 1), fill=GAP)
            for x in range(0, spec.width_dots, 12):
                draw.line((x, y + h // 2, x + 6, y + h // 2), fill=INK if not item.torn else GAP, width=2)
    return page


def _draw_line(page: Image.Image, line: TextLine, y: int, spec: PaperSpec, fonts: FontBook) -> None:
    x = line_x(line.width, line.align, spec)
    for run in line.runs:
        cell_w, cell_h = spec.cell(run.style.font)
        width = cell_w * run.style.width * len(run.text)
        height = cell_h * run.style.height
        top = y + line.height - height  # characters of one line share a baseline
        if run.text.strip():
            mask = _glyphs(run.text, width, height, run.style.bold, fonts)
            if run.style.invert:
                page.paste(INK, (x, top, x + width, top + height))
                page.paste(PAPER, (x, top), mask)
            else:
                page.paste(INK, (x, top), mask)
        elif run.style.invert:
            page.paste(INK, (x, top, x + width, top + height))
        if run.style.underline:
            thickness = run.style.underline
            ImageDraw.Draw(page).rectangle(
                (x, top + height - thickness, x + width - 1, top + height - 1), fill=INK
            )
        x += width


def _glyphs(text: str, width: int, height: int, bold: bool, fonts: FontBook) -> Image.Image:
    """A mask of ``text`` drawn to fill cells ``width`` x ``height``, like a printer's bitmap font."""
    size = max(6, round(height * 0.92))
    font = fonts.get(bold, size)
    natural = max(1, math.ceil(ImageDraw.Draw(Image.new("L", (1, 1))).textlength(text, font=font)))
    canvas = Image.new("L", (natural, height), 0)
    if isinstance(font, ImageFont.FreeTypeFont):
        ImageDraw.Draw(canvas).text((0, round(height * 0.80)), text, font=font, fill=255, anchor="ls")
    else:  # Pillow without FreeType: a small bitmap font, stretched
        ImageDraw.Draw(canvas).text((0, 0), text, font=font, fill=255)
    return canvas.resize((width, height), Image.Resampling.LANCZOS)
