"""What an ESC/POS printer puts on paper, command by command.

:class:`Paper` plays the print head: it keeps the mode a real printer keeps
(font, emphasis, size, alignment, code page, line spacing), builds each line
from the characters it receives, wraps a line that runs past the head like a
real printer does, prints raster images and native QR codes, and cuts. The
result is a list of paper items that read back as text (:meth:`Paper.text`,
:meth:`Paper.tickets`) and draw as a picture (:mod:`hardware_sim.paper_image`).

Commands come from :class:`hardware_sim.escpos_stream.CommandStream`::

    paper = Paper(PaperSpec.for_profile("TM-T20II", 80))
    for command in CommandStream().feed(b"\\x1b@\\x1ba\\x01A001\\n\\x1dV\\x00"):
        paper.execute(command)
    paper.tickets()   # ['A001']
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import qrcode
from escpos.capabilities import CAPABILITIES
from PIL import Image

from hardware_sim.escpos_stream import Command
from hardware_sim.paper_model import (
    CUT_MARK,
    Cut,
    Feed,
    Graphic,
    Item,
    PaperSpec,
    Run,
    Style,
    TextLine,
    piece_text,
)

log = logging.getLogger(__name__)

DEFAULT_LINE_SPACING = 30  # dots; Epson's ESC 2 default on 203 dpi heads (about 1/6 inch)
_TAB_COLUMNS = 8
_QR_EC = {
    48: qrcode.constants.ERROR_CORRECT_L,
    49: qrcode.constants.ERROR_CORRECT_M,
    50: qrcode.constants.ERROR_CORRECT_Q,
    51: qrcode.constants.ERROR_CORRECT_H,
}
_IGNORED_OPS = frozenset(
    {
        "cr", "control", "smoothing", "density", "color", "upside_down", "rotate",
        "char_spacing", "charset", "drawer_pulse", "buzzer", "panel", "select_peripheral",
        "slip_eject", "unidirectional", "hri_position", "hri_font", "barcode_height",
        "barcode_width", "left_margin", "print_width", "motion_units", "auto_status",
        "kanji_on", "kanji_off", "kanji_mode", "kanji_underline",
    }
)  # fmt: skip


@dataclass
class _Mode:
    style: Style = field(default_factory=Style)
    align: int = 0
    codepage: int = 0
    line_spacing: int = DEFAULT_LINE_SPACING
    tabs: tuple[int, ...] = tuple(range(_TAB_COLUMNS, 256, _TAB_COLUMNS))


@dataclass
class _QrState:
    size: int = 3
    ec: int = 48
    data: bytes = b""


class Paper:
    """The print head and the paper it has printed; see the module docstring."""

    def __init__(self, spec: PaperSpec) -> None:
        self.spec = spec
        self.items: list[Item] = []
        #: Commands this printer model would not print (e.g. native QR on a POS-5890).
        self.unsupported: list[Command] = []
        self._decoders: dict[int, str] = {}
        self._mode = _Mode()
        self._qr = _QrState()
        self._line: list[tuple[str, Style]] = []
        self._line_width = 0
        self._line_align: int | None = None

    # --- reading the paper -------------------------------------------------

    def text(self) -> str:
        """Everything printed as plain text; cuts show as :data:`CUT_MARK` lines."""
        lines = [CUT_MARK if isinstance(i, Cut) else i.text for i in self.items if not isinstance(i, Feed)]
        return "\n".join(lines)

    def pieces(self) -> list[list[Item]]:
        """The items of each piece of paper cut or torn off, oldest first."""
        pieces: list[list[Item]] = []
        current: list[Item] = []
        for item in self.items:
            current.append(item)
            if isinstance(item, Cut):
                pieces.append(current)
                current = []
        return pieces

    def tickets(self) -> list[str]:
        """The text of each piece cut or torn off, without blank lines at either end."""
        return [piece_text(piece) for piece in self.pieces()]

    def tear(self) -> None:
        """The customer tears the paper at the tear bar (printers without a cutter)."""
        self._cut(Cut(torn=True))

    # --- executing commands ------------------------------------------------

    def execute(self, command: Command) -> int:
        """Carry out one command; returns how many dots of paper it fed."""
        if command.op in _IGNORED_OPS:
            return 0
        handler = getattr(self, f"_op_{command.op.replace('(', '_')}", None)
        if handler is None:
            log.debug("unsupported ESC/POS command %s", command)
            self.unsupported.append(command)
            return 0
        return int(handler(command) or 0)

    def discard_line(self) -> None:
        """Drop characters not yet printed (buffer clear, ESC @)."""
        self._line.clear()
        self._line_width = 0
        self._line_align = None

    def _op_init(self, _: Command) -> None:
        self.discard_line()
        self._mode = _Mode()
        self._qr = _QrState()

    def _op_text(self, command: Command) -> int:
        table = self._decoder(self._mode.codepage)
        return sum(self._put(table[b]) for b in command.data)

    def _op_lf(self, _: Command) -> int:
        return self._print_line()

    _op_ff = _op_lf

    def _op_ht(self, _: Command) -> int:
        cell = self.spec.cell(0)[0]
        column = self._line_width // cell
        stop = next((t for t in self._mode.tabs if t > column), None)
        if stop is None:
            return 0
        return sum(self._put(" ") for _ in range(stop - column))

    def _op_tabs(self, command: Command) -> None:
        self._mode.tabs = command.args

    def _op_print_mode(self, command: Command) -> None:
        n = command.args[0]
        self._set_style(
            font=n & 1,
            bold=bool(n & 8),
            height=2 if n & 16 else 1,
            width=2 if n & 32 else 1,
            underline=1 if n & 128 else 0,
        )

    def _op_size(self, command: Command) -> None:
        n = command.args[0]
        self._set_style(width=(n >> 4 & 7) + 1, height=(n & 7) + 1)

    def _op_bold(self, command: Command) -> None:
        self._set_style(bold=bool(command.args[0] & 1))

    _op_double_strike = _op_bold

    def _op_underline(self, command: Command) -> None:
        self._set_style(underline=command.args[0] % 48 if command.args[0] in (0, 1, 2, 48, 49, 50) else 0)

    def _op_font(self, command: Command) -> None:
        n = command.args[0] % 48 if command.args[0] >= 48 else command.args[0]
        self._set_style(font=n if n in self.spec.cells else 0)

    def _op_invert(self, command: Command) -> None:
        self._set_style(invert=bool(command.args[0] & 1))

    def _op_align(self, command: Command) -> None:
        n = command.args[0] % 48 if command.args[0] >= 48 else command.args[0]
        self._mode.align = n if n in (0, 1, 2) else 0

    def _op_codepage(self, command: Command) -> None:
        self._mode.codepage = command.args[0]

    def _op_line_spacing_default(self, _: Command) -> None:
        self._mode.line_spacing = DEFAULT_LINE_SPACING

    def _op_line_spacing(self, command: Command) -> None:
        self._mode.line_spacing = command.args[0]

    def _op_line_spacing_360(self, command: Command) -> None:
        self._mode.line_spacing = command.args[0] * self.spec.dpi // 360

    def _op_line_spacing_60(self, command: Command) -> None:
        self._mode.line_spacing = command.args[0] * self.spec.dpi // 60

    def _op_feed_lines(self, command: Command) -> int:
        fed = self._print_line(feed=False) if self._line else 0
        return fed + self._feed(command.args[0] * self._mode.line_spacing)

    def _op_feed_dots(self, command: Command) -> int:
        fed = self._print_line(feed=False) if self._line else 0
        return fed + self._feed(command.args[0])

    def _op_cut(self, command: Command) -> int:
        fed = self._print_line(feed=False) if self._line else 0
        if len(command.args) == 2:  # GS V 65/66 n: feed n dots, then cut
            fed += self._feed(command.args[1])
        if not self.spec.cutter:
            self.unsupported.append(command)
            return fed
        partial = not command.args or command.args[0] in (1, 49, 66)
        self._cut(Cut(partial=partial))
        return fed

    def _cut(self, cut: Cut) -> None:
        """Cut ``cutter_offset`` dots above the head: the blank fed last tops the next piece."""
        carried = 0
        while self.items and isinstance(self.items[-1], Feed) and carried < self.spec.cutter_offset:
            carried += self.items.pop().dots  # type: ignore[union-attr]
        kept = max(0, carried - self.spec.cutter_offset)
        if kept:
            self.items.append(Feed(kept))
        self.items.append(cut)
        if carried - kept:
            self.items.append(Feed(carried - kept))

    def _op_raster(self, command: Command) -> int:
        m, width_bytes, height = command.args
        fed = self._print_line(feed=False) if self._line else 0
        bitmap = Image.frombytes("1", (width_bytes * 8, height), command.data)
        if m & 1 or m & 2:
            scale_x, scale_y = (2 if m & 1 else 1), (2 if m & 2 else 1)
            bitmap = bitmap.resize((bitmap.width * scale_x, bitmap.height * scale_y), Image.Resampling.NEAREST)
        label = f"image {bitmap.width}x{bitmap.height}"
        self.items.append(Graphic(bitmap, self._mode.align, label))
        return fed + bitmap.height

    def _op_gs_k(self, command: Command) -> int:
        """GS ( k: 2D codes; QR (cn = 49) only, and only on models that have it."""
        data = command.data
        if len(data) < 2 or data[0] != 49 or not self.spec.native_qr:
            self.unsupported.append(command)
            return 0
        fn = data[1]
        if fn == 67 and len(data) > 2:
            self._qr.size = max(1, min(16, data[2]))
        elif fn == 69 and len(data) > 2:
            self._qr.ec = data[2]
        elif fn == 80:
            self._qr.data = data[3:]
        elif fn == 81:
            return self._print_qr()
        return 0

    # --- helpers -----------------------------------------------------------

    def _set_style(self, **changes: object) -> None:
        self._mode.style = dataclasses.replace(self._mode.style, **changes)  # type: ignore[arg-type]

    def _char_size(self, style: Style) -> tuple[int, int]:
        w, h = self.spec.cell(style.font)
        return w * style.width, h * style.height

    def _put(self, char: str) -> int:
        """Add a character to the line; a full line is printed first, as a printer does."""
        style = self._mode.style
        width = self._char_size(style)[0]
        fed = 0
        if self._line and self._line_width + width > self.spec.width_dots:
            fed = self._print_line()
        if self._line_align is None:
            self._line_align = self._mode.align
        self._line.append((char, style))
        self._line_width += width
        return fed

    def _print_line(self, feed: bool = True) -> int:
        runs: list[Run] = []
        for char, style in self._line:
            if runs and runs[-1].style == style:
                runs[-1] = Run(runs[-1].text + char, style)
            else:
                runs.append(Run(char, style))
        height = max((self._char_size(s)[1] for _, s in self._line), default=0)
        advance = max(height, self._mode.line_spacing) if feed else height
        align = self._mode.align if self._line_align is None else self._line_align
        self.items.append(TextLine(tuple(runs), align, height, self._line_width, advance))
        self.discard_line()
        return advance

    def _feed(self, dots: int) -> int:
        if dots > 0:
            self.items.append(Feed(dots))
        return dots

    def _print_qr(self) -> int:
        fed = self._print_line(feed=False) if self._line else 0
        code = qrcode.QRCode(border=0, error_correction=_QR_EC.get(self._qr.ec, _QR_EC[48]))
        code.add_data(self._qr.data.decode("utf-8", errors="replace"))
        code.make(fit=True)
        matrix = code.get_matrix()
        modules = Image.new("1", (len(matrix), len(matrix)))
        modules.putdata([255 if dark else 0 for row in matrix for dark in row])
        side = len(matrix) * self._qr.size
        bitmap = modules.resize((side, side), Image.Resampling.NEAREST)
        label = f"QR {self._qr.data.decode('utf-8', errors='replace')}"
        self.items.append(Graphic(bitmap, self._mode.align, label))
        return fed + side

    def _decoder(self, page: int) -> str:
        """The 256 characters of code page ``page`` (ASCII below 128)."""
        if page not in self._decoders:
            self._decoders[page] = _code_page_table(self.spec.codepages.get(page, ""))
        return self._decoders[page]


def _code_page_table(name: str) -> str:
    low = "".join(chr(i) for i in range(128))
    encoding = CAPABILITIES["encodings"].get(name, {})
    if "python_encode" in encoding:
        return low + bytes(range(128, 256)).decode(encoding["python_encode"], errors="replace")
    if "data" in encoding:
        return low + "".join(encoding["data"])
    log.warning("code page %r is unknown; printing '?' for bytes above 127", name)
    return low + "?" * 128
