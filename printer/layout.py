"""The ticket, the "closed" slip and the test page, drawn as python-escpos calls.

Each ``draw_*`` function is pure: it turns its inputs into calls on any
python-escpos printer object and does nothing else (no status, no retries, no
files). :mod:`printer.transaction` runs them on an in-memory ``Dummy`` and sends
the bytes in one write, checking the printer before and after.

Sizes follow the paper: the ticket number is drawn in the widest character size
that fits (8 x 8 on 80 mm, 7 x 8 on 58 mm), every other line is wrapped at word
boundaries to the columns of its size, and images (logo, QR) are centred by
ESC a, which the ESC/POS reference applies to raster images too.

Example::

    ticket = TicketPrint("A001", "mykad", {"ms": "MyKad", "en": "Identity card"},
                         issued_at=now, ahead=3, est_wait_min=12.0)
    draw_ticket(printer, ticket, site)
"""

from __future__ import annotations

import datetime as dt
import logging
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import qrcode
from escpos.escpos import Escpos
from PIL import Image, UnidentifiedImageError

from giliran.config import Hours, SiteConfig
from giliran.errors import ConfigError
from printer.phrases import in_languages
from printer.profile import char_cell_width, printable_dots, supports_native_qr

log = logging.getLogger(__name__)

MAX_TEXT_SIZE = 8  # GS ! allows 1..8 times the normal width and height
LOGO_MAX_HEIGHT = 160  # dots, about 2 cm: a logo should not outgrow the number
RULE = "\u2500"  # box-drawing line, in code page 437: prints as one unbroken rule


@dataclass(frozen=True)
class TicketPrint:
    """What one queue ticket says. The ledger fills it in; :func:`draw_ticket` draws it.

    ``issued_at`` is local wall-clock time in the site's zone. ``est_wait_min`` is
    None when the ledger cannot estimate yet (the ticket then says so). ``serving_from``
    is the local time the first counter for it opens, when that is still to come. ``copy``
    marks a reprint, so two customers cannot both show an "original".
    """

    number: str
    category_id: str
    category_names: Mapping[str, str]
    issued_at: dt.datetime
    ahead: int
    est_wait_min: float | None
    copy: bool = False
    serving_from: dt.time | None = None

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise ValueError("number is empty")
        if self.ahead < 0:
            raise ValueError(f"ahead is {self.ahead}; it cannot be negative")
        if self.est_wait_min is not None and self.est_wait_min < 0:
            raise ValueError(f"est_wait_min is {self.est_wait_min}; it cannot be negative")


@dataclass(frozen=True)
class ClosedSlip:
    """The slip a customer gets instead of a ticket when the hall is closed or the quota is full.

    ``no_counter``: within hours, but every counter serving the category has closed
    for the day. ``hours`` (e.g. ``site.hours_of(category)``) adds the opening hours line.
    """

    reason: Literal["closed", "quota", "no_counter"]
    at: dt.datetime
    category_names: Mapping[str, str] | None = None
    hours: Hours | None = None


class _Sheet:
    """A printer plus the geometry of the paper in it: columns per size, fonts."""

    def __init__(self, p: Escpos, site: SiteConfig) -> None:
        self.p = p
        self.site = site
        self.languages = site.site.languages
        self.width = printable_dots(p.profile, site.printer.paper_mm)
        self.cell = char_cell_width(p.profile, 0)
        has_font_b = "1" in p.profile.fonts
        self.small_font = "b" if has_font_b else "a"
        self.small_cell = char_cell_width(p.profile, 1) if has_font_b else self.cell

    @property
    def columns(self) -> int:
        return self.width // self.cell

    def begin(self) -> None:
        self.p.hw("INIT")
        # ESC @ puts the printer back on code page 0: make MagicEncode send ESC t again.
        self.p.magic.encoding = None
        self.p.set(align="center")

    def write(
        self,
        text: str,
        *,
        width: int = 1,
        height: int = 1,
        bold: bool = False,
        small: bool = False,
        invert: bool = False,
    ) -> None:
        """Centred text, wrapped at word boundaries to the columns of its size.

        Reverse-printed lines get a space at each end, so the black band frames the words.
        """
        cell = self.small_cell if small else self.cell
        columns = max(1, self.width // (cell * width) - (2 if invert else 0))
        self.p.set(
            font=self.small_font if small else "a",
            bold=bold,
            invert=invert,
            custom_size=True,
            width=width,
            height=height,
        )
        for line in textwrap.wrap(text, columns) or [""]:
            self.p.textln(f" {line} " if invert else line)

    def rule(self) -> None:
        self.write(RULE * self.columns)

    def header(self, logo: Image.Image | None) -> None:
        if logo is not None:
            self.p.image(logo)
        for i, name in enumerate(_names(self.site.site.name, self.languages)):
            self.write(name, bold=i == 0)

    def phrases(self, key: str, *, small: bool = False, bold: bool = False, **fields: object) -> None:
        """A phrase in each language. If one is a little too long for font A and all
        fit font B, all go in font B: no word left alone on a line, no mixed sizes."""
        lines = in_languages(key, self.languages, **fields)
        longest = max(len(line) for line in lines)
        if longest > self.columns and longest <= self.width // self.small_cell:
            small = True
        for line in lines:
            self.write(line, small=small, bold=bold)

    def stamp(self, at: dt.datetime) -> None:
        self.write(at.strftime("%d/%m/%Y   %H:%M"))

    def footer(self) -> None:
        for line in _names(self.site.printer.footer, self.languages):
            self.write(line, small=True)

    def end(self) -> None:
        # No mode reset here: every job starts with ESC @ (begin). A partial cut leaves a hinge:
        # the ticket hangs until taken instead of falling.
        self.p.cut(mode="PART")


def draw_ticket(p: Escpos, ticket: TicketPrint, site: SiteConfig, logo: Image.Image | None = None) -> None:
    """A queue ticket: site, number (as big as fits), category, people ahead, wait, QR, footer."""
    sheet = _Sheet(p, site)
    sheet.begin()
    sheet.header(logo)
    sheet.stamp(ticket.issued_at)
    sheet.rule()
    sheet.phrases("queue_number", small=True)
    width, height = number_size(ticket.number, sheet.width, sheet.cell)
    sheet.write(ticket.number, width=width, height=height, bold=True)
    if ticket.copy:
        sheet.write(" / ".join(in_languages("copy", sheet.languages)), bold=True, invert=True)
    for i, name in enumerate(_names(ticket.category_names, sheet.languages)):
        if i == 0:  # the first language large: double width too when it fits on one line
            sheet.write(name, bold=True, width=2 if len(name) <= sheet.columns // 2 else 1, height=2)
        else:
            sheet.write(name)
    sheet.rule()
    if ticket.ahead == 0:
        sheet.phrases("ahead_none", bold=True)
    else:
        sheet.phrases("ahead_one" if ticket.ahead == 1 else "ahead", n=ticket.ahead, bold=True)
    if ticket.serving_from is not None:
        sheet.phrases("serving_from", bold=True, t=ticket.serving_from.strftime("%H:%M"))
    if ticket.est_wait_min is None:
        sheet.phrases("wait_unknown")
    else:
        sheet.phrases("wait", n=max(1, round(ticket.est_wait_min)))
    if site.printer.qr_url:
        url = site.printer.qr_url.format(
            site=site.site.id,
            number=ticket.number,
            category=ticket.category_id,
            date=ticket.issued_at.date().isoformat(),
        )
        sheet.rule()
        _qr(sheet, url)
        sheet.phrases("scan", small=True)
    sheet.rule()
    sheet.footer()
    sheet.end()


def draw_closed_slip(p: Escpos, slip: ClosedSlip, site: SiteConfig, logo: Image.Image | None = None) -> None:
    """The short bilingual "closed / quota reached, please come back tomorrow" slip."""
    sheet = _Sheet(p, site)
    sheet.begin()
    sheet.header(logo)
    sheet.rule()
    title = "quota_title" if slip.reason == "quota" else "closed_title"
    for line in in_languages(title, sheet.languages):
        sheet.write(line, width=2, height=2, bold=True)
    for name in _names(slip.category_names or {}, sheet.languages):
        sheet.write(name, bold=True)
    sheet.rule()
    sheet.phrases(slip.reason)
    sheet.phrases("come_back", bold=True)
    if slip.hours is not None:
        sheet.phrases("hours", open=slip.hours.open, close=slip.hours.close)
    sheet.rule()
    sheet.stamp(slip.at)
    sheet.end()


def draw_test_page(p: Escpos, site: SiteConfig, at: dt.datetime, logo: Image.Image | None = None) -> None:
    """A page for the technician: model facts, every text size the ticket uses, a ruler, a QR."""
    sheet = _Sheet(p, site)
    sheet.begin()
    sheet.header(logo)
    sheet.rule()
    for line in in_languages("test_title", sheet.languages):
        sheet.write(line, width=2, height=2, bold=True)
    sheet.stamp(at)
    sheet.rule()
    cfg = site.printer
    facts = [
        f"profile {cfg.profile}, paper {cfg.paper_mm} mm, {sheet.width} dots",
        f"connection {cfg.connection}, {sheet.columns} columns",
        f"native QR: {'yes' if supports_native_qr(p.profile) else 'no (sent as image)'}",
    ]
    for fact in facts:
        sheet.write(fact, small=True)
    sheet.rule()
    sample = f"{site.categories[0].prefix}001"
    width, height = number_size(sample, sheet.width, sheet.cell)
    sheet.write(sample, width=width, height=height, bold=True)
    sheet.write("normal 1x1")
    sheet.write("bold 1x2", bold=True, height=2)
    sheet.write("inverted", invert=True)
    sheet.write("small font B", small=True)
    ruler = "".join(str(i % 10) for i in range(1, sheet.columns + 1))
    sheet.write(ruler)
    sheet.rule()
    _qr(sheet, f"giliran:{site.site.id}:test")
    sheet.footer()
    sheet.end()


def number_size(number: str, width_dots: int, cell: int) -> tuple[int, int]:
    """(width, height) multipliers for the ticket number: the widest that fits with a margin."""
    usable = width_dots * 9 // 10
    width = max(1, min(MAX_TEXT_SIZE, usable // (len(number) * cell)))
    return width, min(MAX_TEXT_SIZE, width + 1)


def qr_module(url: str, width_dots: int) -> int:
    """Dots per QR module: the code takes about a third of the paper width.

    At least 4 dots (0.5 mm at 203 dpi), so a phone camera reads it from a 58 mm ticket.
    """
    code = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_L)  # escpos's default
    code.add_data(url)
    # Only the symbol's size is needed: version v is 4v + 17 modules a side. make() would
    # also draw the symbol with each of its 8 masks to pick one: ~10 ms of every ticket.
    modules = code.best_fit() * 4 + 17
    return max(4, min(8, width_dots // 3 // (modules + 2)))


def load_logo(site: SiteConfig, base_dir: Path | None = None) -> Image.Image | None:
    """The site's logo (``printer.logo``), shrunk to fit the paper; load it once at start.

    A relative path is taken from ``base_dir`` (the site file's folder).
    """
    if not site.printer.logo:
        return None
    path = Path(site.printer.logo)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        with Image.open(path) as img:
            logo = img.convert("RGBA")
    except (OSError, UnidentifiedImageError) as exc:
        raise ConfigError("printer.logo", [f"printer.logo: cannot read image {str(path)!r}: {exc}"]) from None
    width = printable_dots(site.printer.profile, site.printer.paper_mm)
    logo.thumbnail((width * 4 // 5, LOGO_MAX_HEIGHT))
    log.info("logo %s loaded at %dx%d dots", path, logo.width, logo.height)
    return logo


def _qr(sheet: _Sheet, url: str) -> None:
    native = supports_native_qr(sheet.p.profile)
    sheet.p.set(align="center")
    # Without native QR, python-escpos draws the code and sends it as a GS v 0 image.
    sheet.p.qr(url, size=qr_module(url, sheet.width), native=native)
    if native:
        sheet.p.ln()


def _names(names: Mapping[str, str], languages: list[str]) -> list[str]:
    """The names in the site's language order, each once, skipping languages without one."""
    out: list[str] = []
    for lang in languages:
        name = names.get(lang, "").strip()
        if name and name not in out:
            out.append(name)
    return out
