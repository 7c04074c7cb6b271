"""The ledger's estimate, honest when it cannot know: counters that open later, none left today."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest

from giliran.config import RosterShift, SiteConfig
from giliran.errors import LedgerError
from giliran.ledger import Ledger


def rostered(site: SiteConfig, counter3: tuple[str, str]) -> SiteConfig:
    """Counter 3 (the only one serving document collection) on the given shift; the others all day."""
    shifts = [RosterShift(counter=c.id, open="08:00", close="17:00") for c in site.counters if c.id != 3]
    return msgspec.structs.replace(site, roster=[*shifts, RosterShift(counter=3, open=counter3[0], close=counter3[1])])


def test_no_counter_left_today_closes_the_category_at_the_kiosk(tmp_path: Path, site: SiteConfig, clock) -> None:  # type: ignore[no-untyped-def]
    with Ledger(tmp_path / "l.sqlite", rostered(site, ("08:00", "08:30")), clock) as ledger:  # 09:00 now
        assert ledger.availability("collect") == "no_counter"
        assert ledger.availability("mykad") is None
        with pytest.raises(LedgerError, match="no counter is serving Document collection for the rest of today"):
            ledger.reserve("collect")
        loads = {load.category: load for load in ledger.loads()}
        assert loads["collect"].no_counter and loads["collect"].est_wait_s is None
        assert not loads["mykad"].no_counter and loads["mykad"].est_wait_s is not None


def test_a_counter_opening_later_is_in_the_estimate_and_says_from_when(tmp_path: Path, site: SiteConfig,
                                                                        clock) -> None:  # type: ignore[no-untyped-def]
    ten = dt.datetime(2026, 11, 24, 10, 0, tzinfo=site.site.zone).timestamp()
    with Ledger(tmp_path / "l.sqlite", rostered(site, ("10:00", "17:00")), clock) as ledger:
        ticket = ledger.confirm(ledger.reserve("collect").id)
        assert ledger.opening("collect") == (ten, False)
        # Nobody ahead, the counter opens in 60 min and calls it at once: exactly the time to opening.
        assert ticket.est_wait_s == pytest.approx(3600.0)
        second = ledger.reserve("collect")
        assert second.est_wait_s is not None and 3600.0 + 2 * 60 < second.est_wait_s < 3600.0 + 5 * 60
        assert {load.category: load for load in ledger.loads()}["collect"].opens_at == ten
        ledger.next(3)  # staff come early: the counter is open, so no "from" any more
        assert ledger.opening("collect") == (None, False)
