"""The ledger's disk as the kiosk sees it: healthy, or a fault and the way back by itself.

A full disk, a filesystem remounted read-only or an I/O error must not take
the kiosk down. While the ledger cannot be written, the kiosk issues no
ticket (every lamp blinks the fault pattern), counter commands get a clear
error, the retained status names the problem (``ledger``) and one error
event says it (``ledger_disk_full``, ``ledger_read_only``, ``ledger_io_error``).
The main loop polls: when the disk takes writes again (the ledger is reopened,
so a filesystem mounted afresh is seen), everything comes back with no restart.

A ticket that was printed is never left uncalled because the disk filled
between printing and confirming it: a reserve file (``<ledger>.reserve``,
1 MiB) is kept next to the ledger and released to make room for that one
confirmation. If even that fails (an I/O error), the confirmation is kept in
memory and written first when the disk recovers, before anything else; only a
kiosk restarted before then loses it (the ledger voids unconfirmed tickets at
open, so the number is never issued twice).

Example::

    watch = StorageWatch(ledger, path, service.error_event)
    watch.start()
    watch.poll()             # from the main loop
    watch.fault              # None, or the StorageFault in force
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from giliran.errors import StorageFault
from giliran.ledger import Ledger
from giliran.ledger_io import diagnose, free_bytes, read_only
from giliran.ledger_store import Ticket

log = logging.getLogger(__name__)

RESERVE_BYTES = 1024 * 1024
MIN_FREE_BYTES = 1024 * 1024  # free space (beyond the reserve) below which new tickets stop

Report = Callable[[str, str], None]
Recovered = Callable[[str, Ticket], None]


class StorageWatch:
    """Holds the ledger's storage fault, the reserve file, and confirmations still to write."""

    def __init__(self, ledger: Ledger, path: Path, report: Report, *,
                 reserve_bytes: int = RESERVE_BYTES, min_free_bytes: int = MIN_FREE_BYTES) -> None:
        self.ledger = ledger
        self.path = path
        self._report = report
        self._reserve = path.with_name(path.name + ".reserve")
        self._reserve_bytes = reserve_bytes
        self._min_free = min_free_bytes
        self._lock = threading.RLock()
        self._pending: dict[int, str | None] = {}  # ticket id -> None to confirm, or the reason to void
        self._listeners: list[Callable[[], None]] = []
        self._on_written: list[Recovered] = []
        self.fault: StorageFault | None = None

    def on_change(self, listener: Callable[[], None]) -> None:
        """Called when a fault starts, changes or ends (the kiosk refreshes lamps and status)."""
        self._listeners.append(listener)

    def on_written(self, listener: Recovered) -> None:
        """Called with ("issued" | "voided", ticket) for each kept confirmation written on recovery."""
        self._on_written.append(listener)

    @property
    def pending(self) -> int:
        """Printed tickets whose confirmation waits for the disk."""
        return len(self._pending)

    def start(self) -> None:
        """Make the reserve file; a disk that cannot hold it starts the kiosk in a fault."""
        try:
            self._make_reserve()
        except StorageFault as fault:
            self.failed(fault)
        else:
            self.poll()

    # --- faults ------------------------------------------------------------------------

    def failed(self, fault: StorageFault) -> None:
        """A ledger read or write met the disk's failure; the first of a kind is reported.

        Listeners run in the caller's thread; callers must not hold locks listeners take.
        """
        with self._lock:
            new = self.fault is None or self.fault.problem != fault.problem
            self.fault = fault
            if fault.problem != "disk_full":  # a full disk still reads; a failed one is let go for its repair
                self.ledger.release(fault)
        if new:
            log.error("ledger storage fault: %s", fault)
            self._report(fault.code, str(fault))
            self._changed()

    def keep(self, ticket_id: int, void_reason: str | None = None) -> None:
        """Remember a printed ticket's confirmation (or a failed print's void) to write when the disk is back."""
        with self._lock:
            self._pending[ticket_id] = void_reason
        log.warning("ticket id %d: %s kept in memory until the ledger's disk recovers",
                    ticket_id, "void" if void_reason else "confirmation")

    def release_reserve(self) -> bool:
        """Free the reserve file's space for a printed ticket's confirmation; False if there was none."""
        try:
            self._reserve.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.error("cannot release the ledger's reserve file %s: %s", self._reserve, exc)
            return False
        log.warning("released the ledger's reserve file %s to confirm a printed ticket", self._reserve)
        return True

    # --- polling and recovery ------------------------------------------------------------

    def poll(self) -> None:
        """From the main loop: notice a disk running full or read-only; recover when it is fine again."""
        with self._lock:
            was = self.fault
            if was is not None and was.problem == "corrupt":
                return  # a damaged file does not heal: restore a backup and restart the kiosk
            problem = self._trouble()
            written: list[tuple[str, Ticket]] = []
            if problem is None and was is not None:
                try:
                    self._recover(written)
                except StorageFault as fault:
                    problem = fault
                else:
                    self.fault = None
        # Listeners outside the lock: they take the service's lock, whose holders may report a fault here.
        for event, ticket in written:
            for listener in self._on_written:
                listener(event, ticket)
        if problem is not None:
            self.failed(problem)
        elif was is not None:
            log.warning("ledger storage recovered (was %s)", was.problem)
            self._changed()

    def _trouble(self) -> StorageFault | None:
        """What the filesystem's own state says is wrong, without writing anything."""
        folder = self.path.parent
        if read_only(folder):
            return diagnose(self.path)
        free = free_bytes(folder)
        if free is None:
            return diagnose(self.path, "io_error")
        reserve_missing = self._reserve_bytes - self._reserve_size()
        if free - reserve_missing < self._min_free:
            return StorageFault("disk_full", f"the ledger's disk is full ({folder}: {free // 1024} KiB free, "
                                             f"the kiosk needs {(self._min_free + reserve_missing) // 1024} KiB); "
                                             "free space there (`df -h`, `du -sh /var/log/*`)")
        return None

    def _recover(self, written: list[tuple[str, Ticket]]) -> None:
        self.ledger.reopen()
        for ticket_id, void_reason in list(self._pending.items()):
            if void_reason is None:
                ticket, event = self.ledger.confirm(ticket_id), "issued"
            else:
                ticket, event = self.ledger.void(ticket_id, void_reason), "voided"
            del self._pending[ticket_id]
            written.append((event, ticket))
            log.warning("%s %s written after the ledger's disk recovered", event, ticket.number)
        self.ledger.probe()
        self._make_reserve()

    def _reserve_size(self) -> int:
        try:
            return self._reserve.stat().st_size
        except OSError:
            return 0

    def _make_reserve(self) -> None:
        if self._reserve_size() >= self._reserve_bytes:
            return
        try:
            fd = os.open(self._reserve, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self._reserve_bytes)  # real blocks, not a sparse file
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            self._reserve.unlink(missing_ok=True)
            raise diagnose(self.path, "disk_full" if exc.errno == errno.ENOSPC else "io_error") from exc

    def details(self) -> dict[str, str | int | None]:
        """The kiosk's status fields for the ledger."""
        fault = self.fault
        return {"ledger": fault.problem if fault else "ok", "ledger_message": str(fault) if fault else None,
                "ledger_pending": self.pending}

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()
