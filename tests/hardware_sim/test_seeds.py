"""Many seeds of a scenario, pooled, with past weeks in the ledger first (about 10 s)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

from giliran.config import SiteConfig
from hardware_sim.history import write_history
from hardware_sim.scenario import load_scenario, with_roster
from hardware_sim.seeds import pooled_text, run_seeds

ROOT = Path(__file__).resolve().parents[2]


def test_history_is_the_same_weekday_of_past_weeks(site: SiteConfig, tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "examples" / "scenarios" / "peak-morning.toml")
    written = write_history(tmp_path / "l.sqlite", with_roster(site, scenario), scenario, weeks=2)
    db = sqlite3.connect(tmp_path / "l.sqlite")
    days = dict(db.execute("SELECT day, COUNT(*) FROM tickets GROUP BY day").fetchall())
    assert set(days) == {"2026-11-17", "2026-11-10"} and sum(days.values()) == written > 300
    opened = db.execute("SELECT COUNT(*) FROM events WHERE kind = 'counter_open' AND day = '2026-11-17'").fetchone()
    assert opened[0] == 6 + 2  # six shifts, two of them back from a break


def test_two_short_days_pooled(site: SiteConfig, tmp_path: Path) -> None:
    scenario = msgspec.structs.replace(load_scenario(ROOT / "examples" / "scenarios" / "peak-morning.toml"),
                                       end="08:40")
    reports = run_seeds(site, scenario, [1, 2], tmp_path, history_weeks=1)
    tickets = [r.total.tickets for r in reports]
    assert tickets[0] != tickets[1], "each seed is another day"
    pooled = sum((r.outcomes for r in reports), [])
    text = pooled_text(scenario, [1, 2], reports)
    assert f"2 seeds (1-2), {sum(tickets)} tickets" in text
    assert f"of {sum(o.wait_s is not None and o.est_wait_s is not None for o in pooled)} called tickets" in text
