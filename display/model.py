"""What one board shows, digested from the kiosk's BoardState for its zone.

The kiosk publishes the whole hall; a board shows only its zone (the
``display.counters`` it hangs over): that zone's counters, the calls to them
and the categories they serve. The result is a tree of small frozen,
hashable records, so the renderer can tell that a panel has not changed by
comparing records, and redraw nothing.

Example::

    model = board_model(state, display, site, Labels(site.site.languages))
    model.now.number       # 'A013'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from display.labels import Labels
from giliran.config import Display, SiteConfig
from giliran.protocol import BoardState, CallView, CategoryView, CounterView


@dataclass(frozen=True)
class NowCall:
    """The newest call in the zone, shown big. ``call_id`` tells a recall from the first call."""

    call_id: int
    number: str
    counter: tuple[str, ...]
    recall: bool


@dataclass(frozen=True)
class RecentCall:
    number: str
    counter: str


@dataclass(frozen=True)
class CounterTile:
    """A zone counter: what it serves now, or why it serves nothing."""

    id: int
    names: tuple[str, ...]
    state: str
    serving: str | None
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class CategoryRow:
    prefix: str
    names: tuple[str, ...]
    waiting: int
    est_wait: str
    available: bool
    no_counter: bool = False


@dataclass(frozen=True)
class BoardModel:
    now: NowCall | None
    recent: tuple[RecentCall, ...]
    counters: tuple[CounterTile, ...]
    categories: tuple[CategoryRow, ...]


def _est_wait(cat: CategoryView, labels: Labels, site: SiteConfig) -> str:
    """Minutes; "from 09:00" while its counters are still to open; "No counter today" when none will serve it."""
    if cat.no_counter:
        return labels.word("no_counter")
    if cat.serving_from is not None:
        return f"{labels.word('from')} {cat.serving_from.astimezone(site.site.zone):%H:%M}"
    return labels.minutes(cat.est_wait_min) if cat.waiting else "—"


def zone_of(display: Display, site: SiteConfig) -> list[int]:
    """The counters a board covers: its ``counters`` list, or every counter when empty."""
    return list(display.counters) or [c.id for c in site.counters]


def board_model(state: BoardState, display: Display, site: SiteConfig, labels: Labels) -> BoardModel:
    """The zone's part of ``state``, ready to draw."""
    zone = zone_of(display, site)
    views = {c.id: c for c in state.counters}
    counter_names = {cid: _counter_names(cid, views, site, labels) for cid in zone}
    calls = [c for c in state.calls if c.counter in counter_names]
    now = _now(calls[0], counter_names) if calls else None
    recent = _recent(calls, counter_names, display.recent_calls)
    prefix_of = {c.id: c.prefix for c in state.categories}
    tiles = []
    served: set[str] = set()
    for cid in zone:
        view = views.get(cid)
        cats = view.categories if view else _config_categories(cid, site)
        served.update(cats)
        tiles.append(
            CounterTile(
                id=cid,
                names=counter_names[cid],
                state=view.state if view else "closed",
                serving=view.serving if view and view.state == "open" else None,
                prefixes=tuple(prefix_of.get(cat, "?") for cat in cats),
            )
        )
    rows = tuple(
        CategoryRow(
            prefix=cat.prefix,
            names=tuple(labels.names(cat.name)),
            waiting=cat.waiting,
            est_wait=_est_wait(cat, labels, site),
            no_counter=cat.no_counter,
            available=cat.available,
        )
        for cat in state.categories
        if cat.id in served
    )
    return BoardModel(now, recent, tuple(tiles), rows)


def _now(call: CallView, names: Mapping[int, tuple[str, ...]]) -> NowCall:
    return NowCall(call.call_id, call.number, names[call.counter], call.recall)


def _recent(calls: list[CallView], names: Mapping[int, tuple[str, ...]], limit: int) -> tuple[RecentCall, ...]:
    """Calls before the newest, newest first, each number once (a recall is not a new line)."""
    seen = {calls[0].number} if calls else set()
    out: list[RecentCall] = []
    for call in calls[1:]:
        if len(out) >= limit:
            break
        if call.number not in seen:
            seen.add(call.number)
            out.append(RecentCall(call.number, names[call.counter][0]))
    return tuple(out)


def _counter_names(
    cid: int, views: Mapping[int, CounterView], site: SiteConfig,
    labels: Labels,
) -> tuple[str, ...]:
    """The counter's names from the state, else the site file, else its number."""
    if cid in views:
        return tuple(labels.names(views[cid].name)) or (str(cid),)
    try:
        return tuple(labels.names(site.counter(cid).name)) or (str(cid),)
    except KeyError:
        return (str(cid),)


def _config_categories(cid: int, site: SiteConfig) -> list[str]:
    try:
        return list(site.counter(cid).categories)
    except KeyError:
        return []
