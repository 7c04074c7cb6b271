"""A busy, realistic board state built from a site file, for pictures and measurements.

The README's board images, the idle-cost measurement and the simulator's
first frame need a hall in mid-morning without running a kiosk: every counter
busy but one on a break, a queue in each category, a closed service, a notice.
The numbers are fixed, so two snapshots of the same site are identical.

Example::

    state = sample_board(site, now)
    view.update_state(state)
"""

from __future__ import annotations

import datetime as dt

import msgspec

from giliran.config import SiteConfig
from giliran.protocol import BoardState, CallView, CategoryView, CounterView, Notice

#: Waiting tickets and estimated wait (minutes) for the n-th category.
_QUEUES = [(3, 6.5), (18, 27.0), (5, 14.0), (1, 4.0), (2, 35.0), (7, 9.0)]
_NOTICE = (
    "Sila bawa dokumen asal bersama anda. Please bring your original documents.  ·  "
    "Kaunter 5 berehat sehingga 11:00. Counter 5 is on a break until 11:00."
)


def sample_board(site: SiteConfig, now: dt.datetime) -> BoardState:
    """A mid-morning hall: counter 5 (or the fifth) on a break, the fifth service closed."""
    categories = [
        CategoryView(
            id=cat.id,
            prefix=cat.prefix,
            name=cat.name,
            waiting=_QUEUES[i % len(_QUEUES)][0],
            est_wait_min=_QUEUES[i % len(_QUEUES)][1],
            available=i != 4,
        )
        for i, cat in enumerate(site.categories)
    ]
    prefix = {cat.id: cat.prefix for cat in site.categories}
    counters, calls = [], []
    n = len(site.counters)
    for i, counter in enumerate(site.counters):
        paused = i == 4
        cat = counter.categories[i % len(counter.categories)]
        number = f"{prefix[cat]}{12 + 7 * i:03d}"
        counters.append(CounterView(
            id=counter.id, name=counter.name, state="paused" if paused else "open",
            categories=list(counter.categories), serving=None if paused else number,
        ))
        # Two calls per counter: the one it serves now, and the one before it.
        for round_, shown in enumerate((f"{prefix[cat]}{7 + 7 * i:03d}", number)):
            calls.append(CallView(call_id=240 + round_ * n + i, number=shown, counter=counter.id, category=cat,
                                  at=now - dt.timedelta(minutes=2 * (n - i) + 6 * (1 - round_))))
    calls.sort(key=lambda c: c.call_id, reverse=True)
    return BoardState(
        site=site.site.id,
        site_name=site.site.name,
        languages=site.site.languages,
        updated_at=now,
        counters=counters,
        categories=categories,
        calls=calls,
    )


def sample_notice(now: dt.datetime) -> Notice:
    return Notice(text=_NOTICE, until=now + dt.timedelta(hours=8))


def with_call(state: BoardState, number: str, counter: int, at: dt.datetime, recall: bool = False) -> BoardState:
    """``state`` after one more call: the newest call, and the counter now serving ``number``."""
    call_id = max((c.call_id for c in state.calls), default=0) + 1
    category = next((c.id for c in state.categories if number.startswith(c.prefix)), "")
    call = CallView(call_id=call_id, number=number, counter=counter, category=category, at=at, recall=recall)
    counters = [msgspec.structs.replace(c, state="open", serving=number) if c.id == counter else c
                for c in state.counters]
    return msgspec.structs.replace(state, calls=[call, *state.calls], counters=counters, updated_at=at)
