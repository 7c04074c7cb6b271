"""End to end through the virtual office: real broker, real nodes, simulated hardware."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from display.layout import now_parts
from giliran.report import format_report
from hardware_sim.office import SimClock, VirtualOffice
from hardware_sim.runner import ScenarioRunner
from hardware_sim.scenario import check_against_site, load_scenario, with_roster

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim_clock(site) -> SimClock:  # type: ignore[no-untyped-def]
    return SimClock(dt.datetime(2026, 11, 24, 9, 0, tzinfo=site.site.zone).timestamp())


@pytest.fixture
def office(site, tmp_path: Path, sim_clock: SimClock, voices_dir: Path) -> Iterator[VirtualOffice]:  # type: ignore[no-untyped-def]
    with VirtualOffice(site, tmp_path, clock=sim_clock, voices_dir=voices_dir) as running:
        yield running


def test_a_customer_from_button_to_feedback(office: VirtualOffice, sim_clock: SimClock) -> None:
    office.press("A")
    assert "A001" in office.printer.tickets()[-1]
    # The counter learns the kiosk's time from live board states; let it see this one before the
    # simulated clock jumps a minute (a board delivered after the jump would read a minute old).
    office.settle(lambda: office.counter(1).kiosk_time.now() is not None)
    sim_clock.advance(60)
    reply = office.counter(1).press("next")
    assert reply is not None and reply.ok and reply.ticket is not None and reply.ticket.number == "A001"
    office.counter_boards[1].wait_for(lambda line: line.startswith("A001"))
    hall = office.board("hall")
    office.settle(lambda: hall.state is not None and bool(hall.state.calls) and hall.state.calls[0].number == "A001")
    recorder = hall.announcer._player  # type: ignore[union-attr]
    office.settle(lambda: len(recorder.recordings()) == 1)
    assert "A001" in recorder.recordings()[0].path.name
    layout = hall.view.layout
    assert layout is not None
    number = pygame.image.tobytes(hall.surface.subsurface(now_parts(layout.now, layout.unit).number), "RGB")
    assert len(set(number)) > 3, "the now-calling number is drawn"
    sim_clock.advance(300)
    assert office.counter(1).press("done").ok  # type: ignore[union-attr]
    sim_clock.advance(5)
    rated = office.counter(1).press("good")  # the customer presses a satisfaction button on the way out
    assert rated is not None and rated.ok
    kiosk = office.kiosk
    assert kiosk is not None
    kinds = [(e["kind"], e["data"]) for e in kiosk.ledger.events() if e["ticket"] == "A001"]
    assert [k for k, _ in kinds][-2:] == ["done", "feedback"] and '"good"' in kinds[-1][1]


def test_overlapping_counters_and_a_priority_ticket(office: VirtualOffice, sim_clock: SimClock) -> None:
    for category in ("A", "A", "P"):
        office.press(category)
        sim_clock.advance(5)
    first = office.counter(1).press("next")     # counter 1 serves priority + mykad: priority first
    assert first is not None and first.ticket is not None and first.ticket.number == "P001"
    sim_clock.advance(2)
    second = office.counter(2).press("next")    # counter 2 serves mykad only
    assert second is not None and second.ticket is not None and second.ticket.number == "A001"
    sim_clock.advance(2)
    third = office.counter(6).press("next")     # counter 6 serves priority and mykad too
    assert third is not None and third.ticket is not None and third.ticket.number == "A002"
    sim_clock.advance(300)
    assert office.counter(1).press("done").ok  # type: ignore[union-attr]
    sim_clock.advance(2)
    rated = office.counter(1).press("very_good")
    assert rated is not None and rated.ok and rated.ticket is not None and rated.ticket.number == "P001"
    kiosk = office.kiosk
    assert kiosk is not None
    feedback = [e for e in kiosk.ledger.events() if e["kind"] == "feedback"]
    assert [(e["ticket"], e["counter"]) for e in feedback] == [("P001", 1)]


def test_peak_morning_scenario_priority_waits_less(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = ROOT / "examples" / "scenarios" / "peak-morning.toml"
    scenario = load_scenario(path)
    check_against_site(scenario, site, str(path))
    clock = SimClock(scenario.at(scenario.start, site.site.zone) - 60)
    with VirtualOffice(with_roster(site, scenario), tmp_path, clock=clock, boards=False) as office:
        report = ScenarioRunner(office, scenario, clock).run()
    print("\n" + format_report(report, scenario.target_wait_min))
    by = {c.category: c for c in report.categories}
    assert report.total.tickets > 150
    assert by["priority"].mean_wait_min < by["mykad"].mean_wait_min
    assert report.voided == 0
    print(f"promoted by the waiting-time override: {report.total.promoted}; "
          f"estimated-wait MAE {report.total.estimate_mae_min:.1f} min = {report.total.estimate_error_share:.0%} "
          f"of the mean wait (target 25%)")
