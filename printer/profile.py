"""Facts about a printer model and its paper, from python-escpos's profile database.

The layout needs them to size text and images; the simulator needs the same
facts to behave like the model. Keeping them here means both agree on how wide
a line is.

Example::

    printable_dots("POS-5890", 58)   # 384
    char_cell_width("TM-T20II", 0)   # 12 (font A: 48 columns on 576 dots)
"""

from __future__ import annotations

import logging

from escpos.capabilities import BaseProfile, get_profile

from giliran.errors import ConfigError

log = logging.getLogger(__name__)

#: Print-head width for each paper width, at 203 dpi (the common thermal head).
PAPER_DOTS = {58: 384, 80: 576}

_DEFAULT_CELL_WIDTH = 12


def load_profile(name: str) -> BaseProfile:
    """The python-escpos profile called ``name``; a ConfigError names the key if unknown."""
    try:
        return get_profile(name)
    except KeyError:
        raise ConfigError(
            "printer.profile",
            [f"printer.profile: {name!r} is not a python-escpos profile, e.g. 'TM-T20II' or 'POS-5890'"],
        ) from None


def _profile_pixels(profile: BaseProfile) -> int | None:
    pixels = profile.media.get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) else None


def printable_dots(profile: str | BaseProfile, paper_mm: int) -> int:
    """Dots a line can hold: the model's head width, narrowed to the paper if that is smaller."""
    prof = load_profile(profile) if isinstance(profile, str) else profile
    paper = PAPER_DOTS[paper_mm]
    pixels = _profile_pixels(prof)
    return min(pixels, paper) if pixels else paper


def dpi(profile: str | BaseProfile) -> int:
    """Dots per inch of the head; 203 when the profile does not say."""
    prof = load_profile(profile) if isinstance(profile, str) else profile
    value = prof.media.get("dpi")
    return value if isinstance(value, int) else 203


def char_cell_width(profile: str | BaseProfile, font: int) -> int:
    """Width in dots of one character of ``font`` at normal size.

    Derived from the profile's columns on its head width (576 dots / 48 = 12 for
    font A); printers use 12 x 24 (A) and 9 x 17 (B) cells almost everywhere.
    """
    prof = load_profile(profile) if isinstance(profile, str) else profile
    pixels = _profile_pixels(prof)
    columns = prof.fonts.get(str(font), {}).get("columns")
    if not pixels or not isinstance(columns, int) or columns <= 0:
        return _DEFAULT_CELL_WIDTH
    cell = pixels // columns
    return cell if 6 <= cell <= 24 else _DEFAULT_CELL_WIDTH


def supports_native_qr(profile: str | BaseProfile) -> bool:
    """Whether the model draws QR codes itself (GS ( k); otherwise send them as an image."""
    prof = load_profile(profile) if isinstance(profile, str) else profile
    return bool(prof.supports("qrCode"))


def has_cutter(profile: str | BaseProfile) -> bool:
    """Whether the model has an autocutter; without one the customer tears at the bar."""
    prof = load_profile(profile) if isinstance(profile, str) else profile
    return bool(prof.supports("paperFullCut") or prof.supports("paperPartCut"))
