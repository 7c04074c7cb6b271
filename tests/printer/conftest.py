"""Fixtures for the printer library: the example site on 80 mm and 58 mm, and simulated printers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import msgspec
import pytest

from giliran.config import SiteConfig
from hardware_sim.printer import SimulatedPrinter
from printer.layout import TicketPrint


def with_printer(site: SiteConfig, **changes: object) -> SiteConfig:
    """The site with some ``[printer]`` keys changed."""
    return msgspec.structs.replace(site, printer=msgspec.structs.replace(site.printer, **changes))


@pytest.fixture
def site58(site: SiteConfig) -> SiteConfig:
    return with_printer(site, profile="POS-5890", paper_mm=58)


@pytest.fixture
def sleeps() -> list[float]:
    """Every sleep a simulated printer took (they return at once)."""
    return []


@pytest.fixture
def make_sim(sleeps: list[float]) -> Callable[..., SimulatedPrinter]:
    """``make_sim(site_or_profile, **options)``: a simulated printer whose clock is the sleeps so far."""

    def make(model: SiteConfig | str = "TM-T20II", **options: object) -> SimulatedPrinter:
        if isinstance(model, SiteConfig):
            options.setdefault("paper_mm", model.printer.paper_mm)
            options.setdefault("timeout_s", model.printer.timeout_s)
            model = model.printer.profile
        return SimulatedPrinter(model, clock=lambda: sum(sleeps), sleep=sleeps.append, **options)

    return make


@pytest.fixture
def ticket(site: SiteConfig) -> TicketPrint:
    mykad = site.category("mykad")
    issued = dt.datetime(2026, 11, 24, 9, 5, tzinfo=site.site.zone)
    return TicketPrint("A001", mykad.id, mykad.name, issued, ahead=3, est_wait_min=12.0)
