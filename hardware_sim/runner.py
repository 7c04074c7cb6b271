"""Replays a scenario in the virtual office on a simulated clock: a morning in seconds.

A discrete-event loop: customer arrivals press kiosk buttons; each counter
follows its shift, presses Next on its keypad when free, serves for a sampled
time, then presses Done (or No-show for a customer who never came). Every
press goes through the real nodes and the real broker; only the clock jumps
from one event to the next. The report is read from the ledger afterwards.

Example::

    runner = ScenarioRunner(office, scenario, clock)
    report = runner.run()
    print(format_report(report, scenario.target_wait_min))
"""

from __future__ import annotations

import heapq
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from giliran.errors import GiliranError
from giliran.report import Report, build_report
from hardware_sim.office import SimClock, VirtualOffice
from hardware_sim.scenario import Scenario

log = logging.getLogger(__name__)

WALK_S = 20.0          # an idle counter notices a new ticket and calls it
NO_SHOW_WAIT_S = 120.0  # staff wait this long before marking a no-show
RETRY_PRESS_S = 3.0     # a customer whose press fell in the cool-down presses again


class Desk(Enum):
    CLOSED = "closed"
    IDLE = "idle"        # open, nobody waiting for it
    SERVING = "serving"
    BREAK = "break"


@dataclass
class CounterPlan:
    """The simulated staff member at one counter."""

    counter: int
    categories: set[str]
    state: Desk = Desk.CLOSED
    closing: bool = False
    pausing: bool = False
    served: int = 0


@dataclass(order=True)
class Event:
    at: float
    seq: int
    kind: str = field(compare=False)
    data: object = field(compare=False, default=None)


class ScenarioRunner:
    def __init__(self, office: VirtualOffice, scenario: Scenario, clock: SimClock,
                 progress: Callable[[str], None] | None = None,
                 on_event: Callable[[Event], None] | None = None) -> None:
        self.office = office
        self.scenario = scenario
        self.clock = clock
        self.progress = progress
        self.on_event = on_event
        self.rng = random.Random(scenario.seed + 1)
        self.zone = office.site.site.zone
        self.turned_away = 0
        self._queue: list[Event] = []
        self._seq = 0
        self.plans = {s.counter: CounterPlan(s.counter, set(office.site.counter(s.counter).categories))
                      for s in scenario.shifts}

    def _schedule(self, at: float, kind: str, data: object = None) -> None:
        self._seq += 1
        heapq.heappush(self._queue, Event(at, self._seq, kind, data))

    def run(self) -> Report:
        arrivals = self.scenario.arrivals_for(self.zone)
        for at, category in arrivals:
            self._schedule(at, "arrive", category)
        for shift in self.scenario.shifts:
            self._schedule(self.scenario.at(shift.open, self.zone), "open", shift.counter)
            for start, end in shift.pauses:
                self._schedule(self.scenario.at(start, self.zone), "pause", shift.counter)
                self._schedule(self.scenario.at(end, self.zone), "resume", shift.counter)
            self._schedule(self.scenario.at(shift.close, self.zone), "close", shift.counter)
        total, done, last_hour = len(arrivals), 0, ""
        while self._queue:
            event = heapq.heappop(self._queue)
            self.clock.set(max(event.at, self.clock()))
            getattr(self, f"_on_{event.kind}")(event.data)
            self.office.frame()
            if self.on_event is not None:
                self.on_event(event)
            if event.kind == "arrive":
                done += 1
            hour = self.office.kiosk.ledger.local(self.clock()).strftime("%H:00") if self.office.kiosk else ""
            if self.progress is not None and hour != last_hour:
                last_hour = hour
                waiting = self.office.kiosk.ledger.waiting_count() if self.office.kiosk else 0
                self.progress(f"{hour}  arrivals {done}/{total}  waiting {waiting}")
        kiosk = self.office.kiosk
        if kiosk is None:
            raise GiliranError("the kiosk is not running")
        day = kiosk.ledger.service_day(self.scenario.at(self.scenario.start, self.zone))
        return build_report(self.office.workdir / "ledger.sqlite", day, self.scenario.target_wait_min,
                            [c.id for c in self.office.site.categories])

    # --- customers -----------------------------------------------------------------

    def _on_arrive(self, category: str) -> None:
        kiosk = self.office.kiosk
        assert kiosk is not None
        before = sum(kiosk.ledger.issued_today().values())
        ignored = kiosk.presses.ignored
        self.office.press(category)
        if kiosk.presses.ignored > ignored:
            self._schedule(self.clock() + RETRY_PRESS_S, "press_again", category)
            return
        if sum(kiosk.ledger.issued_today().values()) == before:
            self.turned_away += 1
            return
        for plan in self.plans.values():
            if plan.state is Desk.IDLE and category in plan.categories:
                plan.state = Desk.SERVING  # reserved: it will call now
                self._schedule(self.clock() + WALK_S, "call", plan.counter)

    def _on_press_again(self, category: str) -> None:
        """A customer whose press fell in the button's cool-down presses again."""
        self._on_arrive(category)

    # --- staff ------------------------------------------------------------------------

    def _on_open(self, counter: int) -> None:
        self._call(self.plans[counter])

    def _on_call(self, counter: int) -> None:
        self._call(self.plans[counter])

    def _call(self, plan: CounterPlan) -> None:
        """Call the next customer; at closing time staff still serve those already waiting."""
        if plan.pausing and not plan.closing:
            self._leave(plan)
            return
        reply = self.office.counter(plan.counter).press("next")
        if reply is None or not reply.ok or reply.ticket is None:
            if plan.closing:
                self._leave(plan)
            else:
                plan.state = Desk.IDLE
            return
        plan.state = Desk.SERVING
        if self.rng.random() < self.scenario.no_show_rate:
            self._schedule(self.clock() + NO_SHOW_WAIT_S, "finish", (plan.counter, "no_show"))
        else:
            service = self.scenario.service_s(reply.ticket.category, self.rng)
            self._schedule(self.clock() + service, "finish", (plan.counter, "done"))

    def _on_finish(self, data: tuple[int, str]) -> None:
        counter, key = data
        plan = self.plans[counter]
        reply = self.office.counter(counter).press(key)
        if reply is None or not reply.ok:
            log.warning("counter %d: %s was not accepted: %s", counter, key, reply)
        plan.served += 1
        self._call(plan)

    def _on_pause(self, counter: int) -> None:
        plan = self.plans[counter]
        plan.pausing = True
        if plan.state is not Desk.SERVING:
            self._leave(plan)

    def _on_resume(self, counter: int) -> None:
        plan = self.plans[counter]
        plan.pausing = False
        if plan.state is Desk.BREAK:
            self._call(plan)

    def _on_close(self, counter: int) -> None:
        plan = self.plans[counter]
        plan.closing = True
        if plan.state is Desk.IDLE:
            self._leave(plan)
        elif plan.state is Desk.BREAK:
            self._call(plan)  # back from the break to serve whoever is still waiting

    def _leave(self, plan: CounterPlan) -> None:
        """Staff go on a break (Pause key) or home (close command) after the customer in front of them."""
        if plan.state in (Desk.BREAK, Desk.CLOSED) and not plan.closing:
            return
        node = self.office.counter(plan.counter)
        if plan.closing:
            node.client.command("close")
            plan.state = Desk.CLOSED
        else:
            node.press("pause")
            plan.state = Desk.BREAK
