"""Property-based tests: random sequences of queue actions keep the ledger's invariants."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections import Counter as Tally
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from giliran import rules
from giliran.config import SiteConfig, load_site
from giliran.errors import LedgerError
from giliran.ledger import Ledger
from tests.giliran.invariants import check_invariants

ROOT = Path(__file__).resolve().parents[2]
SITE = load_site(ROOT / "examples" / "site.toml")
ZONE = SITE.site.zone
CATEGORIES = [c.id for c in SITE.categories]
COUNTERS = [c.id for c in SITE.counters]


def all_day_site(site: SiteConfig) -> SiteConfig:
    """The example site open every day 06:00-23:00, no per-category hours, so actions rarely hit 'closed'."""
    hours = msgspec.structs.replace(site.hours, open="06:00", close="23:00",
                                    days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    cats = [msgspec.structs.replace(c, hours=None, quota=None) for c in site.categories]
    return msgspec.structs.replace(site, hours=hours, categories=cats)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.site = all_day_site(SITE)
        self.t = dt.datetime(2026, 11, 24, 8, 0, tzinfo=ZONE).timestamp()
        self.ledger = Ledger(self.dir / "ledger.sqlite", self.site, lambda: self.t)
        self.rules = {c.id: rules.CategoryRule(c.weight, c.max_wait_min * 60.0) for c in self.site.categories}

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(category=st.sampled_from(CATEGORIES), printed=st.booleans())
    def issue(self, category: str, printed: bool) -> None:
        try:
            ticket = self.ledger.reserve(category)
        except LedgerError as exc:  # every counter serving it has closed today: its ticket would never be called
            assert exc.code == "no_counter"
            assert all(c.state == "closed" for c in self.ledger.counters() if c.id in self.serving(category))
            return
        if printed:
            self.ledger.confirm(ticket.id)
        else:
            self.ledger.void(ticket.id, "paper out")

    def serving(self, category: str) -> set[int]:
        return {c.id for c in self.site.counters_serving(category)}

    @rule(seconds=st.integers(min_value=1, max_value=40 * 60))
    def wait(self, seconds: int) -> None:
        self.t += seconds

    @rule(counter=st.sampled_from(COUNTERS))
    def next(self, counter: int) -> None:
        served = set(self.site.counter(counter).categories)
        waiting = [t for t in self.ledger.waiting() if t.category in served]
        candidates = [rules.Candidate(t.id, t.category, t.issued_at) for t in waiting]
        passes = dict(self.ledger._db.execute("SELECT category, pass FROM passes").fetchall())
        expected = rules.choose(candidates, self.rules, passes, self.t)
        try:
            called = self.ledger.next(counter)
        except LedgerError as exc:
            assert exc.code == "nobody_waiting" and expected is None
            return
        assert expected is not None and called.id == expected.ticket_id
        assert called.category in served
        overdue = [t for t in waiting if self.t - t.issued_at > self.rules[t.category].max_wait_s]
        if overdue:
            assert called.promoted and called.id in {t.id for t in overdue}, "an overdue ticket goes first"
        else:
            same = [t for t in waiting if t.category == called.category]
            assert called.issued_at == min(t.issued_at for t in same), "oldest first within a category"

    @rule(counter=st.sampled_from(COUNTERS), action=st.sampled_from(["recall", "no_show", "done"]))
    def act(self, counter: int, action: str) -> None:
        try:
            getattr(self.ledger, action)(counter)
        except LedgerError as exc:
            assert exc.code == "not_serving"

    @rule(counter=st.sampled_from(COUNTERS), category=st.sampled_from(CATEGORIES))
    def transfer(self, counter: int, category: str) -> None:
        try:
            moved = self.ledger.transfer(counter, category)
        except LedgerError as exc:
            assert exc.code in ("not_serving", "same_category")
            return
        assert moved.state == "waiting" and moved.category == category

    @rule(counter=st.sampled_from(COUNTERS), state=st.sampled_from(["open", "paused", "closed"]))
    def counter_state(self, counter: int, state: str) -> None:
        self.ledger.set_counter_state(counter, state)

    @rule()
    def restart(self) -> None:
        """Close and reopen the ledger, as after a power cut between actions."""
        self.ledger.close()
        self.ledger = Ledger(self.dir / "ledger.sqlite", self.site, lambda: self.t)

    @invariant()
    def invariants_hold(self) -> None:
        check_invariants(self.ledger._db)


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=40, deadline=None)
@given(
    w_priority=st.integers(min_value=1, max_value=5),
    w_normal=st.integers(min_value=1, max_value=5),
    arrivals=st.lists(st.sampled_from(["priority", "mykad"]), min_size=10, max_size=60),
)
def test_the_ratio_holds_while_both_kinds_wait(w_priority: int, w_normal: int, arrivals: list[str]) -> None:
    """With one counter serving both, calls follow the weights within one ticket, as long as both wait."""
    site = all_day_site(SITE)
    cats = [msgspec.structs.replace(c, weight={"priority": w_priority, "mykad": w_normal}.get(c.id, c.weight),
                                    max_wait_min=1440) for c in site.categories]
    site = msgspec.structs.replace(site, categories=cats)
    t = [dt.datetime(2026, 11, 24, 8, 0, tzinfo=ZONE).timestamp()]
    with tempfile.TemporaryDirectory() as tmp, Ledger(Path(tmp) / "l.sqlite", site, lambda: t[0]) as ledger:
        for category in arrivals:
            ledger.confirm(ledger.reserve(category).id)
            t[0] += 1
        calls: Tally[str] = Tally()
        while {t.category for t in ledger.waiting()} >= {"priority", "mykad"}:
            calls[ledger.next(1).category] += 1
            gap = calls["priority"] / w_priority - calls["mykad"] / w_normal
            assert abs(gap) <= 1.0, (calls, w_priority, w_normal)
