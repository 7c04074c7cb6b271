"""The queue ledger: the site's single source of truth for tickets and calls.

Every action is one SQLite transaction (WAL, synchronous=FULL) that also
appends one or more rows to the append-only ``events`` table, so the ledger
after a crash or power cut is exactly the ledger before it, and reports can
be rebuilt from the events alone.

Printing is two-phase, so a ticket is never a ghost and a number never
repeats: ``reserve`` durably takes the next number in state ``printing``;
the kiosk prints, then ``confirm`` puts it in the queue or ``void`` retires it.
A ticket still ``printing`` when the ledger opens (the kiosk died mid-print)
is voided: its number is never issued again.

Numbers are per category and per *service day* (``giliran.ledger_day``:
when one starts, what expires and what is carried). Time comes from
``giliran.ledger_clock``: it never runs backwards and holds a forward jump it
cannot trust. Queue order is issue order (the ticket id), never a wall-clock
comparison. The read models (board, loads, estimate inputs) are
``giliran.ledger_read``; the file, its schema and migrations
``giliran.ledger_store``.

Example::

    ledger = Ledger(Path("ledger.sqlite"), site, clock=time.time)
    ticket = ledger.reserve("mykad"); ledger.confirm(ticket.id)
    ledger.next(counter=1).number    # 'A001'
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from giliran import estimate, ledger_io, rules
from giliran.config import Category, SiteConfig
from giliran.errors import LedgerError, StorageFault
from giliran.estimate_inputs import Profile, read_profile, read_queue_state, read_roster
from giliran.ledger_clock import ClockReading, LedgerClock
from giliran.ledger_day import ServiceDays, local, service_day
from giliran.ledger_read import LedgerReads
from giliran.ledger_store import Call, CategoryLoad, CounterRow, Ticket, open_db

log = logging.getLogger(__name__)

Clock = Callable[[], float]
BOARD_CACHE_S = 60.0


class Ledger:
    """The durable queue. Thread-safe: GPIO and MQTT callbacks may call it."""

    def __init__(self, path: Path, site: SiteConfig, clock: Clock, monotonic: Clock | None = None,
                 synced: Callable[[], bool] | None = None) -> None:
        """``clock`` is the wall clock; ``monotonic`` counts seconds since the machine booted (the kiosk
        passes ``time.monotonic``; without it the wall clock is taken as monotonic: tests and the
        simulator move one scenario clock); ``synced`` says whether NTP keeps the clock right
        (giliran.timesync). See giliran.ledger_clock."""
        self._site = site
        self._lock = threading.RLock()
        self._board_cache: tuple[tuple[int, int], dict[str, estimate.Estimate]] | None = None
        self._profile: tuple[str, Profile] | None = None  # past weeks' arrivals: fixed for a service day
        self._roster_cache: tuple[tuple[int, int], tuple[tuple[estimate.CounterNow, ...],
                                                         dict[int, tuple[estimate.Shift, ...]]]] | None = None
        self._path = path
        self._db = open_db(path)
        self._read = LedgerReads(self._db)
        last = self._db.execute("SELECT at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        self._monotonic = monotonic or clock
        self._clock = LedgerClock(clock, self._monotonic, last[0] if last else None, synced)
        self._logged_clock = "ok"
        self._days = ServiceDays(self._db, self._clock, self._monotonic, self._log, self.service_day(self.now()))
        with self._transaction():
            self._sync_counters()
            self._void_unprinted()
            self._days.after_boot(site, clock())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def release(self, fault: StorageFault) -> None:
        """Let go of the ledger's files while their disk fails; every action raises ``fault`` until ``reopen``.

        A process that keeps files open on a failed filesystem keeps its broken
        mount alive: a technician could not unmount, fsck and mount it again.
        """
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                log.warning("closing the failed ledger connection", exc_info=True)
            self._use(ledger_io.released(self._path, fault))

    def reopen(self) -> None:
        """Open the file again after a storage fault (a filesystem remounted, a disk that failed and came back).

        The old connection may hold handles to a filesystem that is gone; a
        new one sees the file as it is on disk now. Raises StorageFault while
        the disk still fails.
        """
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                log.warning("closing the failed ledger connection", exc_info=True)
            self._use(open_db(self._path))
            self._db.execute("SELECT COUNT(*) FROM meta").fetchone()

    def _use(self, db: sqlite3.Connection) -> None:
        """Read and write through ``db`` from now on (the read models and the service day too)."""
        self._db = db
        self._read = LedgerReads(db)
        self._days.use(db)

    def probe(self) -> None:
        """One small durable write, to learn whether the disk takes writes again (raises StorageFault if not)."""
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?)", (repr(self.now()),))

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def site(self) -> SiteConfig:
        return self._site

    def reload(self, site: SiteConfig) -> None:
        """Take a new site file (categories, counters, hours) without restarting.

        Refused (``would_strand``, naming the tickets) if tickets still waiting or
        called would belong to a category the new file drops or no counter serves:
        nobody could ever call them. Serve them first, or keep the category for today.
        """
        with self._transaction():
            stranded = self._stranded_by(site)
            if stranded:
                raise LedgerError("would_strand", "not reloaded: " + "; ".join(stranded))
            self._site = site
            self._sync_counters()
            self._log("config_reloaded", data={"categories": [c.id for c in site.categories]})

    # --- time ---------------------------------------------------------------

    def now(self) -> float:
        """Ledger time: never earlier than the last entry (see giliran.ledger_clock)."""
        return self._clock.now()

    def check_clock(self) -> ClockReading:
        """Read the clock; a change of its state (behind, held, ok) becomes a ``clock`` event."""
        with self._lock:
            self._clock.now()
            if self._clock.reading().state != self._logged_clock:
                with self._transaction():
                    pass  # the transaction logs the change
            return self._clock.reading()

    def accept_clock(self) -> ClockReading:
        """A technician confirms the wall clock: a held step is taken (the day may roll over)."""
        with self._lock:
            self._clock.accept()
            return self.check_clock()

    def local(self, at: float) -> dt.datetime:
        return local(self._site, at)

    def service_day(self, at: float) -> str:
        """The service day a moment belongs to by the clock (the ledger's own day may be later)."""
        return service_day(self._site, at)

    def _today(self) -> str:
        """The service day reads belong to: the ledger's, or the clock's once it has passed the next
        opening time (the roll-over itself waits for the next action)."""
        return max(self._days.current, self.service_day(self.now()))

    # --- customer side --------------------------------------------------------

    def availability(self, category_id: str) -> str | None:
        """Why a category cannot issue a ticket now ('closed', 'quota_full', 'no_counter'), or None.

        'no_counter': no counter serving it is open or still expected today (see ``opening``), so a
        ticket would never be called; the kiosk treats it as closed.
        """
        with self._lock:
            cat = self._category(category_id)
            now = self.now()
            # With an unconfirmed clock the time of day is unknown: the hall is open while the kiosk is on.
            # A wall clock behind ledger time is usually NTP's correction: the hours follow it.
            local = self.local(now + min(0.0, self._clock.reading().offset_s))
            if not self._clock.unconfirmed and not self._site.hours_of(cat).is_open(local):
                return "closed"
            if cat.quota is not None and self._issued_today(cat) >= cat.quota:
                return "quota_full"
            if self.opening(category_id)[1]:
                return "no_counter"
            return None

    def opening(self, category_id: str) -> tuple[float | None, bool]:
        """(When a counter serving the category is expected to open, if later; no counter left today).

        From the counters' states and the roster (giliran.roster); cached until the ledger or the minute changes.
        """
        with self._lock:
            now = self.now()
            key = (self._last_seq(), int(now // BOARD_CACHE_S))
            if self._roster_cache is None or self._roster_cache[0] != key:
                self._roster_cache = (key, read_roster(self._db, self._site, now, self._days.current))
            counters, planned = self._roster_cache[1]
            return estimate.opening(counters, planned, category_id, now)

    def reserve(self, category_id: str) -> Ticket:
        """Durably take the next number of a category, in state 'printing'."""
        with self._transaction():
            cat = self._category(category_id)
            reason = self.availability(category_id)
            if reason == "closed":
                raise LedgerError("closed", f"{_en(cat)} is closed now; hours are {self._hours_text(cat)}")
            if reason == "quota_full":
                raise LedgerError("quota_full", f"{_en(cat)} has issued its daily quota of {cat.quota} tickets")
            if reason == "no_counter":
                raise LedgerError("no_counter", f"no counter is serving {_en(cat)} for the rest of today")
            now = self.now()
            day = self._days.current
            seq = self._issued_today(cat) + 1
            number = f"{cat.prefix}{seq:03d}"
            ahead = self._read.waiting_ahead(cat.id)
            est = self._estimate(cat.id).wait_s
            cur = self._db.execute(
                "INSERT INTO tickets (day, prefix, seq, number, category, origin_category, issued_at,"
                " state, ahead, est_wait_s) VALUES (?, ?, ?, ?, ?, ?, ?, 'printing', ?, ?)",
                (day, cat.prefix, seq, number, cat.id, cat.id, now, ahead, est),
            )
            ticket_id = cur.lastrowid
            assert ticket_id is not None
            self._days.issued(ticket_id)
            self._log("reserved", number, cat.id, data={"ahead": ahead, "est_wait_s": est})
            return self.ticket(ticket_id)

    def confirm(self, ticket_id: int) -> Ticket:
        """The ticket is on paper: put it in the queue."""
        with self._transaction():
            ticket = self._ticket_in(ticket_id, ("printing",))
            if not self._read.has_waiting(ticket.category):
                self._join(ticket.category)
            self._db.execute("UPDATE tickets SET state = 'waiting' WHERE id = ?", (ticket_id,))
            self._log("issued", ticket.number, ticket.category,
                      data={"ahead": ticket.ahead, "est_wait_s": ticket.est_wait_s})
            return self.ticket(ticket_id)

    def void(self, ticket_id: int, reason: str) -> Ticket:
        """The ticket never reached the customer: retire its number for good."""
        with self._transaction():
            ticket = self._ticket_in(ticket_id, ("printing", "waiting"))
            self._db.execute(
                "UPDATE tickets SET state = 'voided', finished_at = ? WHERE id = ?", (self.now(), ticket_id)
            )
            self._log("voided", ticket.number, ticket.category, data={"reason": reason})
            return self.ticket(ticket_id)

    # --- counter side -----------------------------------------------------------

    def next(self, counter: int) -> Ticket:
        """Finish what the counter serves and call the next ticket by the calling rule.

        With nobody waiting it still commits what it did (the counter opened, its
        ticket finished) before raising ``nobody_waiting``: a counter opened to an
        empty hall stays open.
        """
        with self._lock:
            before = self._counter(counter)
            ticket = self._call_next(counter)
        if ticket is None:
            served = self._site.counter(counter).categories
            raise LedgerError(
                "nobody_waiting",
                f"no one is waiting for counter {counter}'s services ({', '.join(served)})",
                changed=before.state != "open" or before.serving is not None,
            )
        return ticket

    def _call_next(self, counter: int) -> Ticket | None:
        """One transaction: None (committed) when nobody waits for the counter's services."""
        with self._transaction():
            row = self._counter(counter)
            if row.state != "open":
                self._set_counter_state(counter, "open")
            self._finish_current(counter, "done")
            served = self._site.counter(counter).categories
            # The rule only ever picks a category's oldest ticket (also the most overdue one).
            heads = [self._read.head(category) for category in served]
            candidates = [rules.Candidate(r["id"], r["category"], r["issued_at"]) for r in heads if r]
            choice = rules.choose(candidates, self._rules(), self._read.passes(), self.now())
            if choice is None:
                return None
            charged = rules.charge(self._read.passes().get(choice.category, 0.0), self._rules()[choice.category])
            self._set_pass(choice.category, charged)
            now = self.now()
            self._db.execute(
                "UPDATE tickets SET state = 'called', counter = ?, called_at = ?, promoted = ? WHERE id = ?",
                (counter, now, int(choice.overdue), choice.ticket_id),
            )
            self._db.execute("UPDATE counters SET current_ticket = ? WHERE id = ?", (choice.ticket_id, counter))
            ticket = self.ticket(choice.ticket_id)
            self._log("called", ticket.number, ticket.category, counter,
                      data={"promoted": choice.overdue, "waited_s": now - ticket.issued_at})
            return ticket

    def recall(self, counter: int) -> Ticket:
        """Announce the counter's current ticket again."""
        with self._transaction():
            ticket = self._current(counter, "recall")
            self._log("recalled", ticket.number, ticket.category, counter)
            return ticket

    def no_show(self, counter: int) -> Ticket:
        with self._transaction():
            ticket = self._current(counter, "mark a no-show")
            self._finish_current(counter, "no_show")
            return self.ticket(ticket.id)

    def done(self, counter: int) -> Ticket:
        with self._transaction():
            ticket = self._current(counter, "finish")
            self._finish_current(counter, "done")
            return self.ticket(ticket.id)

    def transfer(self, counter: int, category_id: str) -> Ticket:
        """Send the counter's ticket to another category, keeping its number and place."""
        with self._transaction():
            target = self._category(category_id)
            ticket = self._current(counter, "transfer")
            if target.id == ticket.category:
                raise LedgerError("same_category", f"{ticket.number} is already in {target.id!r}")
            if not self._read.has_waiting(target.id):
                self._join(target.id)
            self._db.execute(
                "UPDATE tickets SET state = 'waiting', category = ?, counter = NULL, called_at = NULL"
                " WHERE id = ?",
                (target.id, ticket.id),
            )
            self._db.execute("UPDATE counters SET current_ticket = NULL WHERE id = ?", (counter,))
            self._log("transferred", ticket.number, target.id, counter, data={"from": ticket.category})
            return self.ticket(ticket.id)

    def set_counter_state(self, counter: int, state: str) -> CounterRow:
        """Pause, open or close a counter. Closing finishes the ticket it serves."""
        if state not in ("open", "paused", "closed"):
            raise LedgerError("bad_state", f"a counter can be open, paused or closed, not {state!r}")
        with self._transaction():
            self._counter(counter)
            if state == "closed":
                self._finish_current(counter, "done")
            self._set_counter_state(counter, state)
            return self._counter(counter)

    def feedback(self, counter: int, rating: str) -> Ticket:
        """Record a customer's rating of the ticket this counter served last (once per ticket)."""
        if rating not in ("very_good", "good", "poor"):
            raise LedgerError("bad_rating", f"rating must be very_good, good or poor, not {rating!r}")
        with self._transaction():
            row = self._db.execute(
                "SELECT current_ticket, last_served FROM counters WHERE id = ?", (self._counter(counter).id,)
            ).fetchone()
            ticket_id = row["current_ticket"] or row["last_served"]
            if ticket_id is None:
                raise LedgerError("nothing_to_rate", f"counter {counter} has not served anyone yet")
            ticket = self.ticket(ticket_id)
            if self._db.execute("SELECT rating FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0]:
                raise LedgerError("already_rated", f"{ticket.number} has already been rated")
            self._db.execute("UPDATE tickets SET rating = ? WHERE id = ?", (rating, ticket_id))
            self._log("feedback", ticket.number, ticket.category, counter, data={"rating": rating})
            return ticket

    # --- reading ----------------------------------------------------------------

    def ticket(self, ticket_id: int) -> Ticket:
        with self._lock:
            return self._read.ticket(ticket_id)

    def find(self, number: str, day: str | None = None) -> Ticket | None:
        """A ticket by its printed number on a service day (today by default)."""
        with self._lock:
            return self._read.find(day or self._today(), number)

    def waiting(self, category_id: str | None = None) -> list[Ticket]:
        """Waiting tickets in issue order (the calling order within a category)."""
        with self._lock:
            return self._read.waiting(category_id)

    def waiting_count(self) -> int:
        with self._lock:
            return self._read.waiting_count()

    def counters(self) -> list[CounterRow]:
        with self._lock:
            return [self._counter(c.id) for c in self._site.counters]

    def loads(self) -> list[CategoryLoad]:
        """Per category: how many wait, the estimated wait for a new ticket, can one be issued."""
        with self._lock:
            estimates = self._board_estimates()
            return [
                CategoryLoad(
                    cat.id,
                    self._read.waiting_ahead(cat.id),
                    (est := estimates[cat.id]).wait_s,
                    self.availability(cat.id) is None,
                    opens_at=est.opens_at,
                    no_counter=est.no_counter,
                )
                for cat in self._site.categories
            ]

    def estimate_for(self, ticket: Ticket) -> float | None:
        """Estimated seconds until a waiting ticket is called, from its place in the queue."""
        with self._lock:
            return self._estimate(ticket.category, ticket.id).wait_s

    def recent_calls(self, limit: int = 20) -> list[Call]:
        """Today's calls and recalls, newest first."""
        with self._lock:
            return self._read.recent_calls(self._today(), limit)

    def events(self, after: int = 0, limit: int = 1000) -> list[sqlite3.Row]:
        """The append-only event log, for reports and for tests."""
        with self._lock:
            return self._read.events(after, limit)

    def issued_today(self) -> dict[str, int]:
        with self._lock:
            return {cat.id: self._read.issued(self._today(), cat.prefix) for cat in self._site.categories}

    # --- internals ----------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One durable transaction; nested calls join the outer one."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._log_clock()
                self._days.roll(self.service_day(self.now()))
                yield
                self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (disk full, I/O error) may have rolled back already; one left
                # open would make the next action join it instead of starting its own.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _log(self, kind: str, ticket: str | None = None, category: str | None = None,
             counter: int | None = None, data: dict[str, object] | None = None) -> None:
        now = self.now()
        self._db.execute(
            "INSERT INTO events (at, day, kind, ticket, category, counter, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now, self._days.current, kind, ticket, category, counter, json.dumps(data or {})),
        )

    def _log_clock(self) -> None:
        reading = self._clock.reading()
        if reading.state != self._logged_clock:
            self._logged_clock = reading.state
            self._log("clock", data={"state": reading.state, "offset_s": round(reading.offset_s, 1),
                                     "text": reading.text})

    def _stranded_by(self, site: SiteConfig) -> list[str]:
        """Per category the new site would leave with no way to call its open tickets, what is left in it."""
        served = {cat for counter in site.counters for cat in counter.categories}
        known = {cat.id for cat in site.categories}
        rows = self._db.execute(
            "SELECT category, number FROM tickets WHERE state = 'waiting' ORDER BY id"
        ).fetchall()
        left: dict[str, list[str]] = {}
        for row in rows:
            if row["category"] not in known or row["category"] not in served:
                left.setdefault(row["category"], []).append(row["number"])
        return [f"{', '.join(numbers)} still in {cat!r}, which the new site file "
                f"{'drops' if cat not in known else 'leaves with no counter'}" for cat, numbers in left.items()]

    def _sync_counters(self) -> None:
        for counter in self._site.counters:
            self._db.execute("INSERT OR IGNORE INTO counters (id, state) VALUES (?, 'closed')", (counter.id,))

    def _void_unprinted(self) -> None:
        for row in self._db.execute("SELECT id FROM tickets WHERE state = 'printing'").fetchall():
            self.void(row["id"], "the kiosk stopped while printing")

    def _category(self, category_id: str) -> Category:
        try:
            return self._site.category(category_id)
        except KeyError:
            known = ", ".join(c.id for c in self._site.categories)
            raise LedgerError("unknown_category", f"no category {category_id!r}; known: {known}") from None

    def _counter(self, counter: int) -> CounterRow:
        return self._read.counter(self._site, counter)

    def _set_counter_state(self, counter: int, state: str) -> None:
        self._db.execute("UPDATE counters SET state = ? WHERE id = ?", (state, counter))
        self._log(f"counter_{state}", counter=counter)

    def _current(self, counter: int, verb: str) -> Ticket:
        serving = self._counter(counter).serving
        if serving is None:
            raise LedgerError("not_serving", f"counter {counter} is not serving a ticket to {verb}")
        return serving

    def _finish_current(self, counter: int, state: str) -> None:
        serving = self._counter(counter).serving
        if serving is None:
            return
        self._db.execute("UPDATE tickets SET state = ?, finished_at = ? WHERE id = ?",
                         (state, self.now(), serving.id))
        self._db.execute("UPDATE counters SET current_ticket = NULL, last_served = ? WHERE id = ?",
                         (serving.id, counter))
        service_s = self.now() - (serving.called_at or self.now())
        self._log(state, serving.number, serving.category, counter, data={"service_s": service_s})

    def _ticket_in(self, ticket_id: int, states: tuple[str, ...]) -> Ticket:
        ticket = self.ticket(ticket_id)
        if ticket.state not in states:
            raise LedgerError("bad_state", f"{ticket.number} is {ticket.state}, not {' or '.join(states)}")
        return ticket

    def _issued_today(self, cat: Category) -> int:
        return self._read.issued(self._today(), cat.prefix)

    def _rules(self) -> dict[str, rules.CategoryRule]:
        return {c.id: rules.CategoryRule(c.weight, c.max_wait_min * 60.0) for c in self._site.categories}

    def _join(self, category_id: str) -> None:
        passes = self._read.passes()
        waiting_passes = [passes.get(c, 0.0) for c in self._read.waiting_categories() if c != category_id]
        self._set_pass(category_id, rules.joining_pass(passes.get(category_id, 0.0), waiting_passes))

    def _set_pass(self, category_id: str, value: float) -> None:
        self._db.execute(
            "INSERT INTO passes (category, pass) VALUES (?, ?)"
            " ON CONFLICT (category) DO UPDATE SET pass = excluded.pass",
            (category_id, value),
        )

    def _last_seq(self) -> int:
        return int(self._db.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0)

    def _queue_state(self) -> estimate.QueueState:
        now = self.now()
        day = self._days.current
        if self._profile is None or self._profile[0] != day:
            self._profile = (day, read_profile(self._db, self._site, day))
        return read_queue_state(self._db, self._site, now, day, self._profile[1])

    def _estimate(self, category_id: str, ticket_id: int = estimate.NEW_TICKET) -> estimate.Estimate:
        """What a ticket prints: the median of sampled forward runs (giliran.estimate)."""
        return estimate.estimate(self._queue_state(), category_id, ticket_id)

    def _board_estimates(self) -> dict[str, estimate.Estimate]:
        """One deterministic run per category for the boards, cached until the ledger or the minute changes."""
        now = self.now()
        key = (self._last_seq(), int(now // BOARD_CACHE_S))
        if self._board_cache is None or self._board_cache[0] != key:
            state = self._queue_state()
            self._board_cache = (key, {c.id: estimate.estimate(state, c.id, runs=0) for c in self._site.categories})
        return self._board_cache[1]

    def _hours_text(self, cat: Category) -> str:
        hours = self._site.hours_of(cat)
        return f"{hours.open}-{hours.close} ({', '.join(hours.days)})"


def _en(cat: Category) -> str:
    return cat.name.get("en") or next(iter(cat.name.values()))


def minutes(seconds: float | None) -> float | None:
    """Seconds to whole minutes for people: the nearest minute, at least 1 (rounding up would add half a
    minute to every estimate; giliran.estimate_score scores exactly this figure)."""
    return None if seconds is None else float(max(1, math.floor(seconds / 60.0 + 0.5)))
