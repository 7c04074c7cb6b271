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

from giliran.config import SiteConfig, load_site
from giliran.errors import LedgerError
from giliran.ledger import Ledger
from tests.giliran.calling_model import CallingModel
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
        # The expected calls come from an independent model of the calling rule, fed only with what
        # this test did (never with the ledger's passes nor giliran.rules).
        self.model = CallingModel({c.id: c.weight for c in self.site.categories},
                                  {c.id: c.max_wait_min * 60.0 for c in self.site.categories})
        self.issued_at: dict[int, float] = {}

    def service_day(self) -> str:
        """The site's service day now: it opens at 06:00, so the day turns over at 06:00 local time."""
        return (dt.datetime.fromtimestamp(self.t, ZONE) - dt.timedelta(hours=6)).date().isoformat()

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(category=st.sampled_from(CATEGORIES), printed=st.booleans(), customers=st.integers(1, 3))
    def issue(self, category: str, printed: bool, customers: int) -> None:
        """One to three customers press the same button, a second apart."""
        for _ in range(customers):
            self.model.on_day(self.service_day())
            try:
                ticket = self.ledger.reserve(category)
            except LedgerError as exc:
                if exc.code == "no_counter":  # every counter serving it has closed today: it would never be called
                    assert all(c.state == "closed" for c in self.ledger.counters() if c.id in self.serving(category))
                else:
                    hour = dt.datetime.fromtimestamp(self.t, ZONE).hour
                    assert exc.code == "closed" and not 6 <= hour < 23, "the all-day site issues from 06:00 to 23:00"
                return
            if printed:
                self.ledger.confirm(ticket.id)
                self.issued_at[ticket.id] = self.t
                self.model.queued(ticket.id, category, self.t)
            else:
                self.ledger.void(ticket.id, "paper out")
            self.t += 1

    def serving(self, category: str) -> set[int]:
        return {c.id for c in self.site.counters_serving(category)}

    @rule(seconds=st.integers(min_value=1, max_value=40 * 60))
    def wait(self, seconds: int) -> None:
        self.t += seconds

    @rule(counter=st.sampled_from(COUNTERS))
    def next(self, counter: int) -> None:
        self.model.on_day(self.service_day())
        expected = self.model.expect(set(self.site.counter(counter).categories), self.t)
        try:
            called = self.ledger.next(counter)
        except LedgerError as exc:
            assert exc.code == "nobody_waiting" and expected is None
            return
        assert expected is not None, f"counter {counter} called {called.number} with nobody waiting for it"
        assert (called.id, called.promoted) == (expected.ticket_id, expected.overdue), \
            f"counter {counter} called {called.number} (promoted={called.promoted}); the rule says {expected}"
        self.model.called(called.id)

    @rule(counter=st.sampled_from(COUNTERS), action=st.sampled_from(["recall", "no_show", "done"]))
    def act(self, counter: int, action: str) -> None:
        try:
            getattr(self.ledger, action)(counter)
        except LedgerError as exc:
            assert exc.code == "not_serving"

    @rule(counter=st.sampled_from(COUNTERS), category=st.sampled_from(CATEGORIES))
    def transfer(self, counter: int, category: str) -> None:
        self.model.on_day(self.service_day())
        try:
            moved = self.ledger.transfer(counter, category)
        except LedgerError as exc:
            assert exc.code in ("not_serving", "same_category")
            return
        assert moved.state == "waiting" and moved.category == category
        self.model.queued(moved.id, category, self.issued_at[moved.id])  # keeps its place

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


ACTIONS = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(["priority", "mykad", "birth", "death"])),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=3 * 60) | st.integers(min_value=1, max_value=40 * 60)),
    st.tuples(st.just("next"), st.sampled_from([1, 6])),
    st.tuples(st.just("next"), st.sampled_from([1, 6])),  # 1: priority + MyKad; 6: priority, death, birth, MyKad
)


@settings(max_examples=100, deadline=None)
@given(actions=st.lists(ACTIONS, min_size=5, max_size=120))
def test_every_call_matches_the_reference_model(actions: list[tuple[str, object]]) -> None:
    """A busy stretch at the counters that serve several categories: every Next calls the ticket the
    independent model of the rule picks, and says 'promoted' exactly when the waiting-time override chose it."""
    site = all_day_site(SITE)
    model = CallingModel({c.id: c.weight for c in site.categories},
                         {c.id: c.max_wait_min * 60.0 for c in site.categories})
    t = [dt.datetime(2026, 11, 24, 8, 0, tzinfo=ZONE).timestamp()]
    with tempfile.TemporaryDirectory() as tmp, Ledger(Path(tmp) / "l.sqlite", site, lambda: t[0]) as ledger:
        for kind, arg in actions:
            if kind == "issue":
                ticket = ledger.confirm(ledger.reserve(str(arg)).id)
                model.queued(ticket.id, str(arg), t[0])
                t[0] += 1
            elif kind == "wait":
                t[0] += int(arg)  # type: ignore[call-overload]
            else:
                expected = model.expect(set(site.counter(int(arg)).categories), t[0])  # type: ignore[call-overload]
                if expected is None:
                    continue
                called = ledger.next(int(arg))  # type: ignore[call-overload]
                assert (called.id, called.promoted) == (expected.ticket_id, expected.overdue), \
                    f"counter {arg} called {called.number} (promoted={called.promoted}); the rule says {expected}"
                model.called(called.id)
