"""``giliran scenario run FILE --seeds N``: one scenario over many seeds, boards and PA off, scores pooled.

One seed moves the estimate's figures by several points; twenty do not.
Each seed is a whole day in the virtual office (real broker, kiosk and
counters; no boards, so no rendering or announcements), in its own folder.
The printed-wait outcomes of every day are pooled and scored together
(giliran.estimate_score).

Example::

    giliran scenario run examples/scenarios/peak-morning.toml --seeds 20
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from giliran.config import SiteConfig, load_site
from giliran.estimate_score import Outcome, format_score, score_outcomes
from giliran.report import Report
from hardware_sim.history import write_history
from hardware_sim.office import SimClock, VirtualOffice
from hardware_sim.runner import ScenarioRunner
from hardware_sim.scenario import Scenario, check_against_site, load_scenario, with_roster

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]


def run_seeds(site: SiteConfig, scenario: Scenario, seeds: list[int], workdir: Path, history_weeks: int = 8,
              progress: Callable[[str], None] = lambda line: None) -> list[Report]:
    """Replay ``scenario`` once per seed, after ``history_weeks`` past weeks (hardware_sim.history)."""
    reports = []
    for seed in seeds:
        day = msgspec.structs.replace(scenario, seed=seed)
        clock = SimClock(day.at(day.start, site.site.zone) - 60)
        started = time.monotonic()
        folder = workdir / f"seed-{seed}"
        planned = with_roster(site, day)
        write_history(folder / "ledger.sqlite", planned, day, history_weeks)
        with VirtualOffice(planned, folder, clock=clock, boards=False) as office:
            runner = ScenarioRunner(office, day, clock)
            report = runner.run()
        score = report.estimate
        progress(f"seed {seed}: {report.total.tickets} tickets ({runner.turned_away} turned away: closed, quota or "
                 f"no counter), {score.within:.1%} within the band, "
                 f"old figure {score.old_share:.1%} ({time.monotonic() - started:.0f} s)")
        reports.append(report)
    return reports


def pooled_text(scenario: Scenario, seeds: list[int], reports: list[Report]) -> str:
    """The pooled score as Markdown, with the spread of the main figure between seeds."""
    outcomes: list[Outcome] = [o for r in reports for o in r.outcomes]
    per_seed = [r.estimate.within for r in reports]
    spread = (f"; per seed {min(per_seed):.1%}-{max(per_seed):.1%} (sd {statistics.pstdev(per_seed):.1%})"
              if len(per_seed) > 1 else "")
    return (f"## {scenario.name}: {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}), "
            f"{sum(r.total.tickets for r in reports)} tickets{spread}\n\n" + format_score(score_outcomes(outcomes)))


def cmd_scenario_run(args: argparse.Namespace) -> int:
    """``giliran scenario run`` (parsed by giliran.cli): the example office unless --site says otherwise."""
    site = load_site(Path(args.site or ROOT / "examples" / "site.toml"))
    scenario = load_scenario(Path(args.file))
    check_against_site(scenario, site, args.file)
    if not 1 <= args.seeds <= 1000 or not 0 <= args.history_weeks <= 52:
        print("giliran: --seeds must be 1-1000 and --history-weeks 0-52", file=sys.stderr)
        return 2
    first = scenario.seed if args.first_seed is None else args.first_seed
    seeds = list(range(first, first + args.seeds))
    with tempfile.TemporaryDirectory(prefix="giliran-seeds-") as tmp:
        reports = run_seeds(site, scenario, seeds, Path(tmp), args.history_weeks, progress=print)
    text = pooled_text(scenario, seeds, reports)
    print("\n" + text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0
