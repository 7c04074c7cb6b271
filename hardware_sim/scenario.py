"""A scenario: one day (or part of it) in a hall, as a TOML file the simulator can replay.

Arrivals per category come as hourly rates (a Poisson process, piecewise
constant by hour); service times per category are log-normal with a mean and a
spread; counters open, pause and close on a schedule; a share of customers do
not come when called. The seed makes a run repeatable. See docs/TESTING.md and
examples/scenarios/.

Example::

    scenario = load_scenario(Path("examples/scenarios/peak-morning.toml"))
    arrivals = scenario.arrivals(site_zone)   # [(epoch seconds, category), ...] sorted
"""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

from giliran.config import WEEKDAYS, RosterShift, SiteConfig, parse_clock
from giliran.errors import ConfigError
from giliran.validation import load_toml


class _Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Arrivals(_Struct, frozen=True):
    category: str
    per_hour: dict[str, float]

    def __post_init__(self) -> None:
        for hour, rate in self.per_hour.items():
            parse_clock(hour)
            if not 0 <= rate <= 2000:
                raise ValueError(f"per_hour[{hour!r}] = {rate}: a rate is between 0 and 2000 an hour")


class Service(_Struct, frozen=True):
    category: str
    mean_min: float
    sd_min: float = 0.0

    def __post_init__(self) -> None:
        if not 0.1 <= self.mean_min <= 240 or not 0 <= self.sd_min <= 240:
            raise ValueError("mean_min must be 0.1-240 and sd_min 0-240 minutes")


class Shift(_Struct, frozen=True):
    """When a counter is staffed; ``pauses`` are [start, end] pairs (e.g. prayer or lunch breaks)."""

    counter: int
    open: str
    close: str
    pauses: list[tuple[str, str]] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        for t in (self.open, self.close, *(t for p in self.pauses for t in p)):
            parse_clock(t)


class Scenario(_Struct, frozen=True, kw_only=True):
    name: str
    date: dt.date
    start: str
    end: str
    seed: int = 1
    no_show_rate: float = 0.0
    target_wait_min: float = 30.0
    arrivals: list[Arrivals]
    service: list[Service]
    shifts: list[Shift]

    def __post_init__(self) -> None:
        if parse_clock(self.end) <= parse_clock(self.start):
            raise ValueError("end must be after start")
        if not 0 <= self.no_show_rate < 1:
            raise ValueError("no_show_rate must be between 0 and 1")

    def at(self, clock: str, zone: ZoneInfo) -> float:
        """Epoch seconds of a wall-clock time on the scenario's date at the site."""
        return dt.datetime.combine(self.date, parse_clock(clock), zone).timestamp()

    def arrivals_for(self, zone: ZoneInfo) -> list[tuple[float, str]]:
        """Every customer's arrival time and category, in order (deterministic for the seed)."""
        rng = random.Random(self.seed)
        end = self.at(self.end, zone)
        found: list[tuple[float, str]] = []
        for stream in self.arrivals:
            hours = sorted((self.at(h, zone), rate) for h, rate in stream.per_hour.items())
            for i, (begin, rate) in enumerate(hours):
                stop = min(hours[i + 1][0] if i + 1 < len(hours) else end, end)
                t = begin
                while rate > 0:
                    t += rng.expovariate(rate / 3600.0)
                    if t >= stop:
                        break
                    found.append((t, stream.category))
        return sorted(found)

    def service_s(self, category: str, rng: random.Random) -> float:
        """A log-normal service time with the category's mean and spread, in seconds."""
        spec = next(s for s in self.service if s.category == category)
        mean, sd = spec.mean_min * 60, spec.sd_min * 60
        if sd == 0:
            return mean
        sigma2 = math.log(1 + (sd / mean) ** 2)
        return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


def with_roster(site: SiteConfig, scenario: Scenario) -> SiteConfig:
    """The site with the scenario's shifts as its planned roster for that weekday (what the rota says).

    The estimate knows the plan, as a hall's supervisor would; it does not know the arrivals.
    """
    day = WEEKDAYS[scenario.date.weekday()]
    kept = [r for r in site.roster if day not in r.days or r.counter not in {s.counter for s in scenario.shifts}]
    planned = [RosterShift(counter=s.counter, open=s.open, close=s.close, breaks=list(s.pauses), days=[day])
               for s in scenario.shifts]
    return msgspec.structs.replace(site, roster=kept + planned)


def check_against_site(scenario: Scenario, site: SiteConfig, source: str) -> None:
    """Cross-check: categories and counters the scenario names exist at the site."""
    cats = {c.id for c in site.categories}
    counters = {c.id for c in site.counters}
    problems = [f"arrivals[{i}].category: no category {a.category!r} at site {site.site.id}"
                for i, a in enumerate(scenario.arrivals) if a.category not in cats]
    problems += [f"service[{i}].category: no category {s.category!r}"
                 for i, s in enumerate(scenario.service) if s.category not in cats]
    problems += [f"shifts[{i}].counter: no counter {s.counter}"
                 for i, s in enumerate(scenario.shifts) if s.counter not in counters]
    served = {s.category for s in scenario.service}
    problems += [f"arrivals[{i}].category: {a.category!r} has no [[service]] entry"
                 for i, a in enumerate(scenario.arrivals) if a.category not in served]
    if problems:
        raise ConfigError(source, problems)


def load_scenario(path: Path) -> Scenario:
    return load_toml(path, Scenario)
