"""``giliran demo``: the virtual office with the example site and the peak-morning scenario.

Writes ``demo-out/``: printed tickets (PNG), board snapshots (PNG), PA
announcements (WAV) and ``summary.md`` (the scenario report). With
``--window`` and a screen, it instead opens the hall board in a window and
lets the tester press kiosk and counter keys (see docs/TESTING.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import time
from pathlib import Path

from display.voices_build import build_voice_pack
from giliran.config import SiteConfig, load_site
from giliran.report import format_report
from hardware_sim.history import write_history
from hardware_sim.office import SimClock, VirtualOffice
from hardware_sim.runner import Event, ScenarioRunner
from hardware_sim.scenario import Scenario, check_against_site, load_scenario, with_roster

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SITE = ROOT / "examples" / "site.toml"
PEAK = ROOT / "examples" / "scenarios" / "peak-morning.toml"
TICKETS_KEPT = 6
HISTORY_WEEKS = 8
ANNOUNCEMENTS_KEPT = 12


def run_demo(args: argparse.Namespace) -> int:
    """``giliran demo`` (parsed by giliran.cli): the example office unless --site / --scenario say otherwise."""
    site = load_site(Path(args.site or EXAMPLE_SITE))
    out = Path(args.out)
    if args.window:
        from hardware_sim.interactive import run_interactive

        return run_interactive(site, out)
    scenario_path = Path(args.scenario or PEAK)
    scenario = load_scenario(scenario_path)
    check_against_site(scenario, site, str(scenario_path))
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    for sub in ("tickets", "boards", "announcements"):
        (out / sub).mkdir(parents=True)
    print(f"Giliran demo: {scenario.name} at {site.site.name.get('en', site.site.id)}")
    voices = build_voices(site, out / "run" / "voices")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    clock = SimClock(scenario.at(scenario.start, site.site.zone) - 60)
    planned = with_roster(site, scenario)
    write_history(out / "run" / "ledger.sqlite", planned, scenario, HISTORY_WEEKS)  # a hall with two months behind it
    with VirtualOffice(planned, out / "run", clock=clock, voices_dir=voices) as office:
        print(f"  broker on 127.0.0.1:{office.broker.port}, kiosk, {len(office.counters)} counters, "
              f"{len(office.boards)} boards running")
        keeper = Keeper(office, out)
        runner = ScenarioRunner(office, scenario, clock, progress=lambda line: print(f"  {line}"),
                                on_event=keeper.on_event)
        report = runner.run()
        keeper.final()
    keep_announcements(out / "run" / "announcements", out / "announcements")
    shutil.rmtree(out / "run", ignore_errors=True)
    summary = summary_text(site, scenario, report_text=format_report(report, scenario.target_wait_min),
                           turned_away=runner.turned_away, seconds=time.monotonic() - started, out=out)
    (out / "summary.md").write_text(summary, encoding="utf-8")
    print(summary)
    return 0


def build_voices(site: SiteConfig, folder: Path) -> Path:
    print(f"  building voice packs with espeak-ng: {', '.join(site.site.languages)}")
    for lang in site.site.languages:
        build_voice_pack(lang, folder / lang)
    return folder


class Keeper:
    """Saves what a person wants to see: the first tickets, boards on the hour, the end state."""

    def __init__(self, office: VirtualOffice, out: Path) -> None:
        self.office = office
        self.out = out
        self._tickets_saved = 0
        self._last_hour = ""

    def on_event(self, event: Event) -> None:
        tickets = self.office.printer.tickets()
        while self._tickets_saved < min(len(tickets), TICKETS_KEPT):
            self.office.printer.paper_png(self.out / "tickets" / f"ticket-{self._tickets_saved + 1:02d}.png",
                                          ticket=self._tickets_saved)
            self._tickets_saved += 1
        kiosk = self.office.kiosk
        if kiosk is None:
            return
        hour = kiosk.ledger.local(self.office.clock()).strftime("%H00")
        if hour != self._last_hour and event.kind == "call":
            self._last_hour = hour
            self.snapshot(hour)

    def snapshot(self, label: str) -> None:
        self.office.settle(lambda: True)
        for display_id, board in self.office.boards.items():
            board.frame()
            board.view.snapshot(self.out / "boards" / f"{display_id}-{label}.png")

    def final(self) -> None:
        self.snapshot("end")


def keep_announcements(source: Path, target: Path) -> None:
    """Keep the first announcements of each PA board; a morning of them would be 100 MB."""
    for board in sorted(p for p in source.iterdir() if p.is_dir()) if source.exists() else []:
        for wav in sorted(board.glob("*.wav"))[:ANNOUNCEMENTS_KEPT]:
            shutil.copy(wav, target / f"{board.name}-{wav.name}")


def summary_text(site: SiteConfig, scenario: Scenario, *, report_text: str, turned_away: int, seconds: float,
                 out: Path) -> str:
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "summary.md")
    return (
        f"# Giliran demo: {scenario.name}\n\n"
        f"Site: {site.site.name.get('en', site.site.id)} ({site.site.id}); scenario "
        f"{scenario.date} {scenario.start}-{scenario.end}, seed {scenario.seed}; "
        f"ran in {seconds:.0f} s.\n\n{report_text}\n"
        f"Customers turned away (closed or quota): {turned_away}\n\n"
        f"Files ({len(files)}):\n\n" + "".join(f"- {f}\n" for f in files)
    )
