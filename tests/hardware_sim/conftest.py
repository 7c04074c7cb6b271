"""Fixtures for the simulator tests: a hand-moved clock and a printer factory."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware_sim.printer import SimulatedPrinter


class ManualTime:
    """A clock whose ``sleep`` returns at once and moves the time on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def manual_time() -> ManualTime:
    return ManualTime()


@pytest.fixture
def make_sim(manual_time: ManualTime) -> Callable[..., SimulatedPrinter]:
    """``make_sim(profile="TM-T20II", **options)`` on the manual clock."""

    def make(profile: str = "TM-T20II", **options: object) -> SimulatedPrinter:
        return SimulatedPrinter(profile, clock=manual_time.clock, sleep=manual_time.sleep, **options)

    return make
