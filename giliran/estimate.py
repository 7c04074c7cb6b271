"""Estimated wait: run the real calling rule forward from the ledger's state, on a clock passed in.

The hall is replayed as the ledger would see it: each counter, when its staff
are free and on shift, calls the ticket ``giliran.rules.choose`` picks
(overrides, passes, joining) among the tickets waiting *then*, including
customers still to come (the learned arrival profile) and counters that open,
pause and close on their roster. The estimate is the time until the ticket in
question is called. Nothing here reads the ledger or the clock: the inputs are
one ``QueueState`` (built by ``giliran.estimate_inputs``), so every case can be
worked by hand in a test.

- ``simulate`` is one run. With ``rng=None`` it is deterministic: every service
  takes its expected time (the no-show share mixed in) and customers arrive
  evenly at the profile's rate; the boards use this, cached.
- ``estimate`` is what a ticket prints: the median of ``RUNS`` runs with
  service times, no-shows and arrivals sampled, from a generator seeded by the
  ticket itself, so the same state always prints the same minutes.

A category that no counter will serve for the rest of the day gets
``Estimate.no_counter``; one whose counters are all still to open gets
``Estimate.opens_at`` (the ticket then says "from 09:00").
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
import zlib
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from giliran import rules

RUNS = 21            # odd: the median is one run's result
NEW_TICKET = -1      # the id of the ticket being estimated before it exists
MAX_STEPS = 20_000   # bound on calls simulated in one run (a day of a large hall is ~2,000)
DEFAULT_SPREAD = 0.3  # service time sd as a share of the mean when too few were seen


@dataclass(frozen=True)
class ServiceTime:
    """Recent service times of a category, in seconds."""

    mean_s: float
    sd_s: float


@dataclass(frozen=True)
class Shift:
    """A span of epoch seconds a counter is expected to be staffed."""

    start: float
    end: float


@dataclass(frozen=True)
class Rate:
    """Expected arrivals of a category: ``per_hour`` from ``start`` to ``end`` (epoch seconds)."""

    start: float
    end: float
    per_hour: float


@dataclass(frozen=True)
class CounterNow:
    """A counter as it is now. ``serving_since`` is when its current customer was called."""

    id: int
    categories: tuple[str, ...]
    state: str                      # 'open', 'paused' or 'closed'
    serving_since: float | None = None
    serving_category: str | None = None


@dataclass(frozen=True)
class QueueState:
    """Everything the forward run needs; see giliran.estimate_inputs for where each part comes from.

    ``roster`` maps a counter to the shifts it is still expected to keep today,
    in order; at the end of its last shift a counter serves whoever is already
    waiting, then leaves. ``waiting`` is in issue order.
    """

    now: float
    waiting: tuple[rules.Candidate, ...]
    passes: Mapping[str, float]
    rules: Mapping[str, rules.CategoryRule]
    counters: tuple[CounterNow, ...]
    service: Mapping[str, ServiceTime]
    roster: Mapping[int, tuple[Shift, ...]]
    arrivals: Mapping[str, tuple[Rate, ...]]
    no_show_share: float = 0.0
    no_show_s: float = 120.0
    call_gap_s: float = 0.0


@dataclass(frozen=True)
class Estimate:
    """``wait_s`` from now until the call; None with ``no_counter`` when nobody will serve it today."""

    wait_s: float | None
    opens_at: float | None = None
    no_counter: bool = False


def estimate(state: QueueState, category: str, ticket_id: int = NEW_TICKET, runs: int = RUNS) -> Estimate:
    """What a ticket prints: the median of ``runs`` sampled runs (``runs=0``: the deterministic run)."""
    opens_at, no_counter = opening(state.counters, state.roster, category, state.now)
    if no_counter:
        return Estimate(None, None, True)
    if ticket_id != NEW_TICKET and all(t.ticket_id != ticket_id for t in state.waiting):
        return Estimate(None, opens_at)  # called or gone: nothing to wait for (and no day to replay)
    if runs == 0:
        return Estimate(simulate(state, category, ticket_id), opens_at)
    rng = random.Random(_seed(state, category, ticket_id))
    waits = [simulate(state, category, ticket_id, rng) for _ in range(runs)]
    middle = statistics.median(math.inf if w is None else w for w in waits)
    return Estimate(None if math.isinf(middle) else middle, opens_at)


def simulate(state: QueueState, category: str, ticket_id: int = NEW_TICKET,
             rng: random.Random | None = None) -> float | None:
    """One forward run: seconds from ``state.now`` until the ticket is called (None: not today)."""
    return _Run(state, category, ticket_id, rng).wait()


def residual_s(service: ServiceTime, elapsed: float) -> float:
    """Expected time left of a log-normal service that has already lasted ``elapsed`` seconds."""
    mean, sd = service.mean_s, service.sd_s
    if sd <= 0 or elapsed <= 0:
        return max(mean - max(elapsed, 0.0), 0.0)
    sigma = math.sqrt(math.log(1 + (sd / mean) ** 2))
    mu = math.log(mean) - sigma * sigma / 2
    z = (math.log(elapsed) - mu) / sigma
    survive = _upper(z)
    if survive < 1e-9:
        return 0.0
    return mean * _upper(z - sigma) / survive - elapsed


def _upper(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _seed(state: QueueState, category: str, ticket_id: int) -> int:
    return zlib.crc32(f"{category}:{ticket_id}:{state.now:.3f}:{len(state.waiting)}".encode())


def opening(counters: Sequence[CounterNow], roster: Mapping[int, tuple[Shift, ...]], category: str,
            now: float) -> tuple[float | None, bool]:
    """(When the first counter serving ``category`` is expected on shift, if later than now; none left today).

    "None left today": no counter serving it is open and none has a shift still to come.
    """
    serving = [c for c in counters if category in c.categories]
    if any(c.state == "open" for c in serving):
        return None, False
    starts = [max(s.start, now) for c in serving for s in roster.get(c.id, ()) if s.end > now]
    if not starts:
        return None, True
    first = min(starts)
    return (first if first > now else None), False


class _Run:
    """One replay of the hall; counters are events on a heap keyed by the time they are next free."""

    def __init__(self, state: QueueState, category: str, ticket_id: int, rng: random.Random | None) -> None:
        self.s = state
        self.rng = rng
        self.target = ticket_id
        self.queues: dict[str, deque[rules.Candidate]] = {c: deque() for c in state.rules}
        for t in state.waiting:
            self.queues[t.category].append(t)
        self.passes = dict(state.passes)
        if ticket_id == NEW_TICKET:
            self._join(category)
            self.queues[category].append(rules.Candidate(NEW_TICKET, category, state.now))
        self.counters = {c.id: c for c in state.counters}
        self.shifts = {c.id: deque(s for s in state.roster.get(c.id, ()) if s.end > state.now)
                       for c in state.counters}
        self.arrivals = {k: self._times(sorted(r, key=lambda x: x.start)) for k, r in state.arrivals.items()}
        self.pending: dict[str, float] = {}
        self.coming: list[tuple[float, str]] = []
        self.seq = -2  # ids of customers still to come: below every real one
        for k in self.arrivals:
            self._pend(k)
        self.lognormal: dict[ServiceTime, tuple[float, float]] = {}
        self.heap: list[tuple[float, int]] = []
        for c in state.counters:
            first = self._first_free(c)
            if first is not None:
                heapq.heappush(self.heap, (first, c.id))

    def wait(self) -> float | None:
        for _ in range(MAX_STEPS):
            if not self.heap:
                return None
            t, cid = heapq.heappop(self.heap)
            at = self._on_shift(cid, t)
            if at is None:
                continue
            if at > t:
                heapq.heappush(self.heap, (at, cid))
                continue
            called = self._call(cid, t)
            if called is None:
                nxt = min((self.pending[k] for k in self.counters[cid].categories if k in self.pending),
                          default=None)
                if nxt is not None:
                    heapq.heappush(self.heap, (nxt + self.s.call_gap_s, cid))
                continue
            if called.ticket_id == self.target:
                return t - self.s.now
            heapq.heappush(self.heap, (t + self._service(called.category), cid))
        return None

    # --- counters -----------------------------------------------------------------

    def _first_free(self, c: CounterNow) -> float | None:
        """When the counter can first call: after its current customer, or at its next shift."""
        now = self.s.now
        if c.state == "open":
            if c.serving_since is None or c.serving_category is None:
                return now + self.s.call_gap_s
            service, elapsed = self.s.service[c.serving_category], now - c.serving_since
            left = residual_s(service, elapsed) if self.rng is None else self._sampled_residual(service, elapsed)
            return now + left + self.s.call_gap_s
        shifts = self.shifts[c.id]
        return max(shifts[0].start, now) if shifts else None

    def _on_shift(self, cid: int, t: float) -> float | None:
        """``t`` if the counter works at ``t``, else the start of its next shift, or None once it has left.

        After its last shift a counter keeps calling while anyone waits for it (the hall serves the
        customers inside at closing time), then leaves.
        """
        shifts = self.shifts[cid]
        while shifts and shifts[0].end <= t:
            shifts.popleft()
        if shifts:
            return max(t, shifts[0].start)
        self._admit(t)
        return t if any(self.queues[k] for k in self.counters[cid].categories) else None

    def _call(self, cid: int, t: float) -> rules.Candidate | None:
        if self.coming and self.coming[0][0] <= t:
            self._admit(t)
        heads = [q[0] for k in self.counters[cid].categories if (q := self.queues[k])]
        if not heads:
            return None
        # One head is the rule's only possible choice; asking it would give the same answer, slower.
        category = heads[0].category if len(heads) == 1 else rules.choose(heads, self.s.rules, self.passes, t).category  # type: ignore[union-attr]
        self.passes[category] = rules.charge(self.passes.get(category, 0.0), self.s.rules[category])
        return self.queues[category].popleft()

    def _service(self, category: str) -> float:
        """How long the counter is busy with one call, the time staff take to call the next included."""
        service = self.s.service[category]
        p = self.s.no_show_share
        if self.rng is None:
            return (1 - p) * service.mean_s + p * self.s.no_show_s + self.s.call_gap_s
        if p and self.rng.random() < p:
            return self.s.no_show_s + self.s.call_gap_s
        return self._sample(service) + self.s.call_gap_s

    def _sample(self, service: ServiceTime) -> float:
        """A log-normal draw with the service's mean and spread."""
        assert self.rng is not None
        if service.sd_s <= 0:
            return service.mean_s
        params = self.lognormal.get(service)
        if params is None:
            sigma2 = math.log(1 + (service.sd_s / service.mean_s) ** 2)
            params = self.lognormal[service] = (math.log(service.mean_s) - sigma2 / 2, math.sqrt(sigma2))
        return math.exp(self.rng.gauss(*params))

    def _sampled_residual(self, service: ServiceTime, elapsed: float) -> float:
        for _ in range(8):  # a draw longer than what has passed, by rejection; the expectation if unlucky
            draw = self._sample(service)
            if draw > elapsed:
                return draw - elapsed
        return residual_s(service, elapsed)

    # --- customers still to come ------------------------------------------------------

    def _times(self, rates: Sequence[Rate]) -> Iterator[float]:
        """Arrival times of one category: evenly spaced at the rate, or a Poisson process when sampling."""
        for rate in rates:
            start = max(rate.start, self.s.now)
            if rate.per_hour <= 0 or rate.end <= start:
                continue
            gap = 3600.0 / rate.per_hour
            if self.rng is None:
                for i in range(int((rate.end - start) / gap + 0.5)):
                    yield start + (i + 0.5) * gap
                continue
            t = start + self.rng.expovariate(1.0 / gap)
            while t < rate.end:
                yield t
                t += self.rng.expovariate(1.0 / gap)

    def _pend(self, category: str) -> None:
        nxt = next(self.arrivals[category], None)
        if nxt is None:
            self.pending.pop(category, None)
        else:
            self.pending[category] = nxt
            heapq.heappush(self.coming, (nxt, category))

    def _admit(self, t: float) -> None:
        """Customers who have arrived by ``t`` join their queues (an empty queue joins at the lowest pass)."""
        while self.coming and self.coming[0][0] <= t:
            at, category = heapq.heappop(self.coming)
            self._join(category)
            self.queues[category].append(rules.Candidate(self.seq, category, at))
            self.seq -= 1
            self._pend(category)

    def _join(self, category: str) -> None:
        if self.queues[category]:
            return
        waiting = [self.passes.get(k, 0.0) for k, q in self.queues.items() if q and k != category]
        self.passes[category] = rules.joining_pass(self.passes.get(category, 0.0), waiting)
