"""What the boards show, built from the ledger: a pure read, published retained."""

from __future__ import annotations

import datetime as dt

from giliran.ledger import Ledger, minutes
from giliran.ledger_store import Ticket
from giliran.protocol import BoardState, CallView, CategoryView, CounterView, TicketView

RECENT_CALLS = 20


def ticket_view(ledger: Ledger, ticket: Ticket) -> TicketView:
    return TicketView(
        number=ticket.number,
        category=ticket.category,
        state=ticket.state,  # type: ignore[arg-type]
        issued_at=_utc(ticket.issued_at),
        ahead=ticket.ahead,
        est_wait_min=minutes(ticket.est_wait_s),
    )


def board_state(ledger: Ledger) -> BoardState:
    site = ledger.site
    rows = {row.id: row for row in ledger.counters()}
    loads = {load.category: load for load in ledger.loads()}
    return BoardState(
        site=site.site.id,
        site_name=dict(site.site.name),
        languages=list(site.site.languages),
        updated_at=_utc(ledger.now()),
        counters=[
            CounterView(
                id=c.id,
                name=dict(c.name),
                state=rows[c.id].state,  # type: ignore[arg-type]
                categories=list(c.categories),
                serving=(serving.number if (serving := rows[c.id].serving) else None),
            )
            for c in site.counters
        ],
        categories=[
            CategoryView(
                id=cat.id,
                prefix=cat.prefix,
                name=dict(cat.name),
                waiting=loads[cat.id].waiting,
                est_wait_min=minutes(loads[cat.id].est_wait_s),
                available=loads[cat.id].available,
                serving_from=_utc(at) if (at := loads[cat.id].opens_at) is not None else None,
                no_counter=loads[cat.id].no_counter,
            )
            for cat in site.categories
        ],
        calls=[
            CallView(call_id=c.call_id, number=c.number, counter=c.counter, category=c.category,
                     at=_utc(c.at), recall=c.recall)
            for c in ledger.recent_calls(RECENT_CALLS)
        ],
    )


def _utc(at: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, dt.UTC)
