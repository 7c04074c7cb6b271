"""Shared fixtures: the example site, an injected clock, and a real Mosquitto per test module."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from giliran.config import SiteConfig, load_site  # noqa: E402
from hardware_sim.broker import LocalBroker  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = ROOT / "examples" / "site.toml"


class FakeClock:
    """A clock the test moves by hand; ``clock()`` returns epoch seconds."""

    def __init__(self, start: dt.datetime) -> None:
        self.t = start.timestamp()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def set(self, when: dt.datetime) -> None:
        self.t = when.timestamp()


@pytest.fixture(scope="session")
def site() -> SiteConfig:
    return load_site(EXAMPLE_SITE)


@pytest.fixture
def clock(site: SiteConfig) -> FakeClock:
    """Tuesday 24 Nov 2026, 09:00 at the site: the hall is open."""
    return FakeClock(dt.datetime(2026, 11, 24, 9, 0, tzinfo=site.site.zone))


@pytest.fixture(scope="module")
def broker(site: SiteConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A real Mosquitto from broker_config/ on a free loopback port, with the site's accounts."""
    local = LocalBroker(site, tmp_path_factory.mktemp("broker"))
    local.start()
    try:
        yield local
    finally:
        local.stop()
