"""Printer faults in the middle of a busy morning: reported, no ghost ticket, no number twice, and recovery.

The peak-morning scenario runs in the virtual office (real broker and nodes,
simulated printer). At set times the printer gets a short roll that runs out in
the middle of a ticket, then its paper-out sensor trips, then its cable is
pulled, then its cover is opened; each fault is cleared a little later, as staff
would. A technician's subscriber records the kiosk's status and error events.

What a customer or a technician would notice is asserted: each fault is on the
kiosk's retained status and on ``event/error``; the lamps blink fast during it
and are steady again after it; every ticket the ledger holds was printed whole
(its number on paper), no voided ticket came out whole, no number twice; and
tickets print again after every fault.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from giliran.mqtt import MqttNode
from giliran.protocol import ErrorEvent, NodeStatus, decode
from hardware_sim.office import SimClock, VirtualOffice
from hardware_sim.printer import SimulatedPrinter
from hardware_sim.runner import Event, ScenarioRunner
from hardware_sim.scenario import load_scenario
from kiosk.lamps import LampMode

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "scenarios" / "peak-morning.toml"
SHORT_ROLL_MM = 500  # about three and a half tickets


@dataclass
class Fault:
    """A fault set at ``start`` and cleared at ``end`` (site time); ``code`` is what the kiosk must report."""

    name: str
    start: str
    end: str
    code: str
    set: Callable[[SimulatedPrinter], None]
    clear: Callable[[SimulatedPrinter], None]
    seen: dict[str, Any] = field(default_factory=dict)


def _switch(name: str, value: bool) -> Callable[[SimulatedPrinter], None]:
    return lambda printer: setattr(printer, name, value)


FAULTS = [
    Fault("roll runs out mid-ticket", "08:40", "09:00", "paper_out",
          lambda p: p.load_paper(SHORT_ROLL_MM), lambda p: p.load_paper()),
    Fault("paper-out sensor", "09:30", "09:45", "paper_out", _switch("paper_out", True), _switch("paper_out", False)),
    Fault("cable unplugged", "10:15", "10:30", "disconnected", _switch("offline", True), _switch("offline", False)),
    Fault("cover open", "11:00", "11:10", "cover_open", _switch("cover_open", True), _switch("cover_open", False)),
]


def lamp_pins_seen(office: VirtualOffice, seconds: float = 0.35) -> dict[str, set[int]]:
    """Each lamp's pin states sampled over ``seconds`` of real time: {1} is steady on, {0, 1} blinking."""
    pins = {c.id: office.kiosk_pins.pin(c.lamp_pin) for c in office.site.categories if c.lamp_pin is not None}
    seen: dict[str, set[int]] = {cat: set() for cat in pins}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for cat, pin in pins.items():
            seen[cat].add(int(pin.state))
        time.sleep(0.02)
    return seen


def whole_tickets(pieces: list[str], number: str, footer: str) -> int:
    """How many tickets on the paper show ``number`` as their big number *and* reach the footer after it."""
    found = 0
    for piece in pieces:
        lines = piece.splitlines()
        for i, line in enumerate(lines):
            if line != number:
                continue
            rest = lines[i + 1:]
            end = next((j for j, ln in enumerate(rest) if ln == "Queue number"), len(rest))  # the next ticket
            found += footer in rest[:end]
    return found


@pytest.mark.faults
def test_printer_faults_during_a_peak_morning(site, tmp_path: Path, recorder) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    scenario = load_scenario(SCENARIO)
    zone = site.site.zone
    clock = SimClock(scenario.at(scenario.start, zone) - 60)
    footer = site.printer.footer["en"]
    plan = [(scenario.at(f.start, zone), "set", f) for f in FAULTS] + [(scenario.at(f.end, zone), "clear", f)
                                                                       for f in FAULTS]
    plan.sort(key=lambda step: step[0])
    pending_recovery: list[Fault] = []

    with VirtualOffice(site, tmp_path, clock=clock, boards=False) as office:
        printer = office.printer
        tech = MqttNode(office.site, "technician", "technician", office.broker.credentials("technician"))
        errors, statuses = recorder(), recorder()
        tech.subscribe(tech.topics.event("error"), errors)
        tech.subscribe(tech.topics.status("kiosk"), statuses)
        tech.start()
        try:
            tech.wait_connected(10)

            def on_event(_event: Event) -> None:
                kiosk = office.kiosk
                assert kiosk is not None
                while plan and clock() >= plan[0][0]:
                    _at, step, fault = plan.pop(0)
                    if step == "set":
                        fault.set(printer)
                        continue
                    # Just before staff clear it: the kiosk knows, and every lamp blinks fast.
                    fault.seen["fault"] = kiosk.issuer.fault
                    fault.seen["lamps"] = {c.id: kiosk.lamps.mode(c.id) for c in office.site.categories}
                    fault.seen["pins"] = lamp_pins_seen(office)
                    fault.clear(printer)
                    fault.seen["cleared_at"] = clock()
                    pending_recovery.append(fault)
                if pending_recovery and kiosk.issuer.fault is None:
                    # The first moment after recovery: lamps of open categories steady again.
                    fault = pending_recovery.pop(0)
                    fault.seen["recovered_after_s"] = clock() - fault.seen["cleared_at"]
                    open_now = {c.id for c in office.site.categories if kiosk.ledger.availability(c.id) is None}
                    fault.seen["lamps_after"] = {cat: kiosk.lamps.mode(cat) for cat in open_now}
                    fault.seen["pins_after"] = {cat: pins for cat, pins in lamp_pins_seen(office).items()
                                                if cat in open_now}

            runner = ScenarioRunner(office, scenario, clock, on_event=on_event)
            report = runner.run()
            kiosk = office.kiosk
            assert kiosk is not None
            stats = kiosk.issuer.stats
            office.settle(lambda: statuses.messages and decode(statuses.messages[-1].payload, NodeStatus)
                          .details.get("printer") == "ok")
        finally:
            tech.stop()
    db = sqlite3.connect(tmp_path / "ledger.sqlite")
    try:
        rows = db.execute("SELECT number, state, issued_at FROM tickets").fetchall()
    finally:
        db.close()

    # Each fault was noticed, shown on the lamps, reported, and cleared.
    for fault in FAULTS:
        assert fault.seen.get("fault") == fault.code, f"{fault.name}: the kiosk reported {fault.seen.get('fault')}"
        assert set(fault.seen["lamps"].values()) == {LampMode.FAULT}, f"{fault.name}: {fault.seen['lamps']}"
        assert all(states == {0, 1} for states in fault.seen["pins"].values()), f"{fault.name}: lamps blink"
        assert "lamps_after" in fault.seen, f"{fault.name}: the kiosk did not recover"
        assert set(fault.seen["lamps_after"].values()) == {LampMode.READY}, f"{fault.name}: {fault.seen['lamps_after']}"
        assert all(states == {1} for states in fault.seen["pins_after"].values()), f"{fault.name}: steady lamps"
    error_codes = Counter(decode(m.payload, ErrorEvent).code for m in errors.messages)
    assert error_codes == Counter({"printer_paper_out": 2, "printer_disconnected": 1, "printer_cover_open": 1})
    shown = [decode(m.payload, NodeStatus).details for m in statuses.messages]
    printer_states = [d.get("printer") for d in shown]
    for code in ("paper_out", "disconnected", "cover_open"):
        assert code in printer_states, f"status never said printer={code}: {set(printer_states)}"
    assert printer_states[-1] == "ok"
    assert "near_end" in [d.get("paper") for d in shown], "the short roll's near-end warning is on the status"

    # No ghost ticket, no number twice, and nothing voided came out whole.
    numbers = [n for n, _s, _t in rows]
    assert len(numbers) == len(set(numbers)), "a number was issued twice"
    issued = [(n, t) for n, s, t in rows if s not in ("voided", "printing")]
    voided = [n for n, s, _t in rows if s == "voided"]
    assert not [n for n, s, _t in rows if s == "printing"]
    pieces = printer.tickets()
    ghosts = [n for n, _t in issued if whole_tickets(pieces, n, footer) != 1]
    assert ghosts == [], f"in the ledger but not printed exactly once: {ghosts}"
    voided_whole = [n for n in voided if whole_tickets(pieces, n, footer)]
    assert voided_whole == [], f"voided, yet printed whole: {voided_whole}"
    # Tickets print again after every fault.
    for fault in FAULTS:
        cleared = fault.seen["cleared_at"]
        assert any(t > cleared for _n, t in issued), f"no ticket printed after {fault.name} was cleared"
    partial = sum(1 for n in voided if n in "\n".join(pieces).splitlines())
    print(f"\nprinter faults: faults={len(FAULTS)} ({', '.join(f.name for f in FAULTS)}); "
          f"tickets={len(issued)} voided={len(voided)} (number printed on a torn-off part: {partial}) "
          f"refused-while-faulty={stats.refused_fault} turned-away={runner.turned_away} ghosts=0 repeated=0; "
          f"error events {dict(error_codes)}; recovered after "
          f"{[round(f.seen['recovered_after_s']) for f in FAULTS]} s of site time (lamps steady again); "
          f"report tickets={report.total.tickets} voided={report.voided}; "
          f"time {time.monotonic() - started:.1f} s")
