"""Service days: which day the ledger's tickets belong to, and the roll-over that starts the next one.

Numbers are per category and per *service day*: the local date at the site's
opening time (a hall open 20:00-02:00 keeps one day across midnight). When a
new service day starts, tickets still open from the old one expire, except
those issued by this kiosk run less than ``CARRY_S`` ago (or at all, while the
clock is unconfirmed): then the day changed because the clock was set, not
because a night passed, so those people are in the hall. They are *carried*
into the new day with their numbers, and the new day's numbering continues
after them, so no number is given twice in the hall.

The current day is kept in the ledger (``meta.day``), not recomputed from the
clock: a clock that runs behind never takes the ledger back to an old day.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable

from giliran.config import SiteConfig
from giliran.ledger_clock import LedgerClock

OPEN_STATES = ("printing", "waiting", "called")
#: Open tickets issued by this run less than this long ago (monotonic) are carried into a new service day.
CARRY_S = 4 * 3600.0

Log = Callable[..., None]


def local(site: SiteConfig, at: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, site.site.zone)


def service_day(site: SiteConfig, at: float) -> str:
    """The service day a moment belongs to: the local date at the last opening time."""
    opens = site.hours.opens
    shifted = local(site, at) - dt.timedelta(hours=opens.hour, minutes=opens.minute)
    return shifted.date().isoformat()


class ServiceDays:
    """The ledger's current service day. Called inside the ledger's transactions, under its lock."""

    def __init__(self, db: sqlite3.Connection, clock: LedgerClock, monotonic: Callable[[], float], log: Log,
                 first: str) -> None:
        self._db = db
        self._clock = clock
        self._monotonic = monotonic
        self._log = log
        row = db.execute("SELECT value FROM meta WHERE key = 'day'").fetchone()
        self._stored: str | None = row[0] if row else None
        self.current = self._stored or first
        self._issued: dict[int, float] = {}

    def use(self, db: sqlite3.Connection) -> None:
        """The ledger's connection was replaced (a storage fault released it, or it was reopened)."""
        self._db = db

    def issued(self, ticket_id: int) -> None:
        """Remember when (monotonic) this run issued a ticket: it may be carried into a new day."""
        self._issued[ticket_id] = self._monotonic()

    def roll(self, today: str) -> None:
        """Start service day ``today`` if it is later than the current one: expire, carry, log."""
        if self._stored is not None and today <= self._stored:
            return
        self.current = self._stored = today
        stale = self._db.execute(
            "SELECT * FROM tickets WHERE state IN (?, ?, ?) AND day < ?", (*OPEN_STATES, today)).fetchall()
        carried = [row for row in stale if row["state"] != "printing" and self._carries(row["id"])]
        for row in carried:
            self._db.execute("UPDATE tickets SET day = ? WHERE id = ?", (today, row["id"]))
            self._log("carried", row["number"], row["category"], data={"from": row["day"]})
        kept = {row["id"] for row in carried}
        expired = [row for row in stale if row["id"] not in kept]
        for row in expired:
            self._db.execute("UPDATE tickets SET state = 'expired', finished_at = ? WHERE id = ?",
                             (self._clock.now(), row["id"]))
            self._log("expired", row["number"], row["category"], data={"day": row["day"]})
        marks = ", ".join("?" * len(kept))
        self._db.execute(f"UPDATE counters SET last_served = NULL, current_ticket ="
                         f" CASE WHEN current_ticket IN ({marks}) THEN current_ticket END", tuple(kept))
        if not carried:
            self._db.execute("DELETE FROM passes")
        self._issued.clear()
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('day', ?)", (today,))
        self._log("day_started", data={"expired": len(expired)} | ({"carried": len(carried)} if carried else {}))

    def after_boot(self, site: SiteConfig, wall: float) -> None:
        """The Pi booted at fake-hwclock's saved time, and that time is outside the hall's hours.

        Its clock cannot say which day it is, but the hall has closed since the
        time it shows, so that day's queue is over: the next day starts. (A boot
        inside the hours, e.g. after a power cut mid-day, keeps the day.)
        """
        if self._clock.unconfirmed and not site.hours.is_open(local(site, wall)):
            after = (dt.date.fromisoformat(self.current) + dt.timedelta(days=1)).isoformat()
            self.roll(max(after, service_day(site, self._clock.now())))

    def _carries(self, ticket_id: int) -> bool:
        issued = self._issued.get(ticket_id)
        return issued is not None and (self._clock.unconfirmed or self._monotonic() - issued < CARRY_S)
