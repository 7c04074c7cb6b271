"""What a board shows of the hall: its zone's counters, calls and services."""

from __future__ import annotations

import datetime as dt

import msgspec

from display.labels import Labels
from display.model import board_model, zone_of
from display.sample import sample_board
from giliran.config import SiteConfig
from giliran.protocol import BoardState, CallView

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def with_calls(state: BoardState, *calls: tuple[str, int, bool]) -> BoardState:
    """``state`` with new calls (number, counter, recall) added, the last one newest."""
    new = list(state.calls)
    call_id = max(c.call_id for c in new)
    for number, counter, recall in calls:
        call_id += 1
        new.insert(0, CallView(call_id=call_id, number=number, counter=counter, category="mykad",
                               at=NOW, recall=recall))
    return msgspec.structs.replace(state, calls=new)


def model(site: SiteConfig, display: str, state: BoardState):  # type: ignore[no-untyped-def]
    return board_model(state, site.display(display), site, Labels(site.site.languages))


def test_board_model_hall_shows_every_counter_and_the_newest_call(site: SiteConfig) -> None:
    state = with_calls(sample_board(site, NOW), ("A100", 2, False))
    m = model(site, "hall", state)
    assert [t.id for t in m.counters] == [1, 2, 3, 4, 5, 6]
    assert m.now is not None and (m.now.number, m.now.counter) == ("A100", ("Kaunter 2", "Counter 2"))
    assert [t.serving for t in m.counters if t.state == "paused"] == [None]
    assert len(m.categories) == len(site.categories)


def test_board_model_zone_board_ignores_other_counters(site: SiteConfig) -> None:
    base = sample_board(site, NOW)
    m = model(site, "lobby", with_calls(base, ("B050", 4, False), ("A101", 1, False)))
    assert zone_of(site.display("lobby"), site) == [4, 5, 6]
    assert [t.id for t in m.counters] == [4, 5, 6]
    assert m.now is not None and m.now.number == "B050"  # A101 went to counter 1, not here
    assert all(r.counter in {"Kaunter 4", "Kaunter 5", "Kaunter 6"} for r in m.recent)
    served = {p for c in site.counters if c.id in (4, 5, 6) for p in c.categories}
    assert {r.prefix for r in m.categories} == {site.category(c).prefix for c in served}


def test_board_model_recent_calls_list_each_number_once(site: SiteConfig) -> None:
    state = with_calls(sample_board(site, NOW), ("A100", 2, False), ("A101", 3, False), ("A100", 2, True))
    m = model(site, "hall", state)
    assert m.now is not None and m.now.number == "A100" and m.now.recall
    numbers = [r.number for r in m.recent]
    assert numbers[0] == "A101" and "A100" not in numbers
    assert len(numbers) == len(set(numbers)) <= site.display("hall").recent_calls


def test_board_model_without_calls(site: SiteConfig) -> None:
    state = msgspec.structs.replace(sample_board(site, NOW), calls=[])
    m = model(site, "hall", state)
    assert m.now is None and m.recent == ()


def test_board_model_counter_missing_from_state_shows_as_closed(site: SiteConfig) -> None:
    base = sample_board(site, NOW)
    state = msgspec.structs.replace(base, counters=[c for c in base.counters if c.id != 6])
    tile = model(site, "hall", state).counters[-1]
    assert (tile.id, tile.state, tile.serving, tile.names[0]) == (6, "closed", None, "Kaunter 6")


def test_board_model_estimated_wait_words(site: SiteConfig) -> None:
    base = sample_board(site, NOW)
    cats = [msgspec.structs.replace(c, waiting=w, est_wait_min=e)
            for c, (w, e) in zip(base.categories, [(0, 0.0), (4, 12.2), (3, None), (1, 0.3), (2, 5), (1, 1)],
                                 strict=True)]
    m = model(site, "hall", msgspec.structs.replace(base, categories=cats))
    assert [r.est_wait for r in m.categories][:4] == ["—", "~13 min", "—", "~1 min"]


def test_board_model_says_from_when_and_no_counter_today(site: SiteConfig) -> None:
    base = sample_board(site, NOW)
    nine = dt.datetime(2026, 11, 24, 9, 0, tzinfo=site.site.zone).astimezone(dt.UTC)
    cats = [msgspec.structs.replace(base.categories[0], waiting=3, est_wait_min=40, serving_from=nine),
            msgspec.structs.replace(base.categories[1], waiting=0, est_wait_min=None, no_counter=True),
            *base.categories[2:]]
    m = model(site, "hall", msgspec.structs.replace(base, categories=cats))
    assert [r.est_wait for r in m.categories][:2] == ["dari 09:00", "Tiada kaunter hari ini"]
