"""A reference model of the calling rule, for the ledger's property test to compare against.

Written apart from ``giliran.rules`` on purpose, so a mistake there does not move the
expected answer with it:

- passes are exact fractions, recomputed from scratch at every Next by replaying the
  day's recorded sequence of joins and calls (no stored pass, no float tolerance);
- candidates are every waiting ticket the counter serves, not only each category's head;
- the override is checked by brute force over those tickets.

The rule itself is the one README.md states: a ticket waiting longer than its category's
limit goes first (furthest past it first, then the one issued first); otherwise the
category whose pass would be lowest after the call (pass = its calls / its weight; ties:
higher weight, older head ticket, category id), oldest ticket first within it; a
category that starts waiting again joins at the lowest pass of those already waiting if
that is higher than its own. Everything starts afresh each service day.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Waiting:
    ticket_id: int
    category: str
    issued_at: float


@dataclass(frozen=True)
class Expected:
    ticket_id: int
    overdue: bool


class CallingModel:
    """The waiting tickets and the day's history of joins and calls, as the test saw them happen."""

    def __init__(self, weights: dict[str, int], max_wait_s: dict[str, float]) -> None:
        self.weights = weights
        self.max_wait_s = max_wait_s
        self.day: str | None = None
        self.waiting: dict[int, Waiting] = {}
        # ("join", category, categories waiting at that moment) or ("call", category, empty)
        self.history: list[tuple[str, str, frozenset[str]]] = []

    def on_day(self, day: str) -> None:
        """A new service day expires whatever still waits and forgets the history."""
        if day != self.day:
            self.day = day
            self.waiting.clear()
            self.history.clear()

    def queued(self, ticket_id: int, category: str, issued_at: float) -> None:
        """A ticket enters the queue (printed, or transferred keeping its issue time)."""
        present = {t.category for t in self.waiting.values()}
        if category not in present:
            self.history.append(("join", category, frozenset(present)))
        self.waiting[ticket_id] = Waiting(ticket_id, category, issued_at)

    def called(self, ticket_id: int) -> None:
        ticket = self.waiting.pop(ticket_id)
        self.history.append(("call", ticket.category, frozenset()))

    def passes(self) -> dict[str, Fraction]:
        """Every category's pass now, replayed from the day's history."""
        value = {c: Fraction(0) for c in self.weights}
        for kind, category, others in self.history:
            if kind == "call":
                value[category] += Fraction(1, self.weights[category])
            elif others:
                value[category] = max(value[category], min(value[o] for o in others))
        return value

    def expect(self, served: set[str], now: float) -> Expected | None:
        """The ticket a counter serving ``served`` should get at ``now``, and whether by the override."""
        mine = [t for t in self.waiting.values() if t.category in served]
        if not mine:
            return None
        late = [t for t in mine if now - t.issued_at > self.max_wait_s[t.category]]
        if late:
            worst = max(now - t.issued_at - self.max_wait_s[t.category] for t in late)
            tied = [t for t in late if now - t.issued_at - self.max_wait_s[t.category] == worst]
            first = min(tied, key=lambda t: (t.issued_at, t.ticket_id))
            return Expected(first.ticket_id, True)
        passes = self.passes()

        def rank(category: str) -> tuple[Fraction, int, float, str]:
            oldest = min(t.issued_at for t in mine if t.category == category)
            return passes[category] + Fraction(1, self.weights[category]), -self.weights[category], oldest, category

        best = min({t.category for t in mine}, key=rank)
        first = min((t for t in mine if t.category == best), key=lambda t: (t.issued_at, t.ticket_id))
        return Expected(first.ticket_id, False)
