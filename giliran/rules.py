"""The calling rule: which waiting ticket a counter gets when staff press Next.

One pure function, ``choose``, so it can be read, tested and replaced per site.

1. **Waiting-time override.** A ticket that has waited longer than its
   category's ``max_wait_min`` is *overdue*. If any candidate is overdue, the
   one furthest past its limit is called (ties: the one issued first). So
   nobody waits forever, whatever the weights.
2. **Weighted ratio between categories** (stride scheduling). Each category
   has a *pass*: the number of its tickets called, divided by its weight.
   Each call adds ``1 / weight``; the category whose pass would be lowest
   *after* the call is served next (ties: higher weight, then the older head
   ticket, then the category id). With weights 2 (priority) and 1 (normal), two priority
   tickets are called for each normal one while both kinds wait.
3. **Oldest first within a category**, by issue order (the ledger passes each
   category's head ticket by sequence; a transferred ticket keeps its place).

A category that starts waiting again after an empty spell *joins* at the
lowest pass of those already waiting (see ``joining_pass``), so an idle
category does not bank credit and then take a burst of calls.
Passes are site-wide: a call at any counter counts for its category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_EPS = 1e-9


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket a counter could call."""

    ticket_id: int
    category: str
    issued_at: float


@dataclass(frozen=True)
class CategoryRule:
    weight: int
    max_wait_s: float


@dataclass(frozen=True)
class Choice:
    ticket_id: int
    category: str
    overdue: bool


def choose(
    candidates: Sequence[Candidate],
    rules: Mapping[str, CategoryRule],
    passes: Mapping[str, float],
    now: float,
) -> Choice | None:
    """The ticket to call next among ``candidates``, or None if there are none."""
    if not candidates:
        return None

    def lateness(c: Candidate) -> float:
        return now - c.issued_at - rules[c.category].max_wait_s

    overdue = [c for c in candidates if lateness(c) > 0]
    if overdue:
        pick = min(overdue, key=lambda c: (-lateness(c), c.issued_at, c.ticket_id))
        return Choice(pick.ticket_id, pick.category, overdue=True)
    heads: dict[str, Candidate] = {}
    for c in candidates:
        head = heads.get(c.category)
        if head is None or (c.issued_at, c.ticket_id) < (head.issued_at, head.ticket_id):
            heads[c.category] = c
    category = min(
        heads,
        key=lambda cat: (
            round(charge(passes.get(cat, 0.0), rules[cat]) / _EPS),
            -rules[cat].weight,
            heads[cat].issued_at,
            cat,
        ),
    )
    return Choice(heads[category].ticket_id, category, overdue=False)


def charge(pass_value: float, rule: CategoryRule) -> float:
    """A category's pass after one of its tickets is called."""
    return pass_value + 1.0 / rule.weight


def joining_pass(own: float, waiting_passes: Iterable[float]) -> float:
    """The pass of a category whose queue was empty and now has a ticket."""
    others = list(waiting_passes)
    return max(own, min(others)) if others else own
