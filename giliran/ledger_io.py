"""The ledger's SQLite connection, and what its disk's failures mean to people.

SQLite reports a full disk, a read-only filesystem and an I/O error as
``sqlite3.OperationalError`` with an error code, from whichever statement met
the disk. The connection here turns those into one ``StorageFault`` naming the
file and the problem, so every caller (the kiosk's press, a counter's Next, the
board build) can tell "the disk failed" from a bug. Other SQLite errors
(constraints, misuse) pass through unchanged: they are bugs, not faults.

A filesystem that Linux remounted read-only after an error (ext4
``errors=remount-ro``) makes SQLite report ``SQLITE_IOERR_WRITE`` on a
connection opened before, so the filesystem's own flags (``statvfs``) decide
between "read-only", "disk full" and "I/O error".

Example::

    db = connect(Path("ledger.sqlite"))
    db.execute("SELECT COUNT(*) FROM tickets")   # StorageFault('ledger_io_error', ...) on EIO
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from giliran.errors import StorageFault

log = logging.getLogger(__name__)

# Primary SQLite result codes (the low byte of an extended code).
SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 8, 10, 11, 13, 14, 26
LOW_SPACE_BYTES = 64 * 1024  # below this, an I/O error on write is taken as a full disk


def free_bytes(path: Path) -> int | None:
    """Bytes an unprivileged writer can still use on the filesystem of ``path``; None if unreadable."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def read_only(path: Path) -> bool:
    """The filesystem of ``path`` takes no writes: mounted read-only, or ext4's emergency read-only.

    After an error, ext4 ``errors=remount-ro`` on Linux 6.x leaves the mount "rw"
    for ``statvfs`` and says ``emergency_ro`` in its options (/proc/self/mounts).
    """
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return "emergency_ro" in _mount_options(path)


def _mount_options(path: Path) -> set[str]:
    """The options of the mount ``path`` is on (the longest mount point that holds it)."""
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return set()
    real = os.path.realpath(path)
    best, options = "", set()
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        where = fields[1].replace("\\040", " ")
        inside = real == where or real.startswith(where.rstrip("/") + "/")
        if inside and len(where) >= len(best):
            best, options = where, set(fields[3].split(","))
    return options


def write_errno(folder: Path) -> int | None:
    """Try one small durable write in ``folder``: None if it works, else the errno (EROFS, ENOSPC, EIO)."""
    probe = folder / ".giliran-write-test"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        return exc.errno
    return None


def diagnose(path: Path, hint: str = "io_error") -> StorageFault:
    """The fault a failed write of ``path`` most likely is, from the filesystem's own state.

    SQLite reports a write refused by a filesystem that ext4 remounted read-only
    after an error as a plain I/O error, and such a filesystem still looks
    writable to ``statvfs``: one test write in the folder tells them apart.
    """
    folder = path.parent
    err = None if hint == "disk_full" else write_errno(folder)
    if read_only(folder) or err == errno.EROFS:
        return StorageFault("read_only", f"the ledger's filesystem is read-only ({folder}); "
                                         "check `dmesg` for filesystem errors, then fsck and remount it")
    free = free_bytes(folder)
    if hint == "disk_full" or err == errno.ENOSPC or (free is not None and free < LOW_SPACE_BYTES):
        shown = "unknown" if free is None else f"{free // 1024} KiB"
        return StorageFault("disk_full", f"the ledger's disk is full ({folder}: {shown} free); "
                                         "free space there (`df -h`, `du -sh /var/log/*`)")
    if hint == "cannot_open" and err is None:  # the disk takes writes: the file itself is the problem
        return StorageFault("cannot_open", f"cannot open the ledger {path}; check that it is a file the kiosk's "
                                           "user can read and write, in a folder it can write")
    return StorageFault("io_error", f"disk I/O error on the ledger {path}; check `dmesg` and the SD card or disk")


def storage_fault(exc: sqlite3.Error, path: Path) -> StorageFault | None:
    """The StorageFault an SQLite error stands for, or None if it is not the disk's doing."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    if primary == SQLITE_FULL:
        return diagnose(path, "disk_full")
    if primary == SQLITE_READONLY and not read_only(path.parent):
        return StorageFault("read_only", f"the ledger {path} cannot be written ({exc}); check the owner and mode "
                                         "of the file, its -wal and -shm files and its folder")
    if primary == SQLITE_CANTOPEN:
        return diagnose(path, "cannot_open")
    if primary in (SQLITE_READONLY, SQLITE_IOERR):
        return diagnose(path)
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return StorageFault("corrupt", f"the ledger {path} is damaged ({exc}); restore the last backup "
                                       "(docs/OPERATIONS.md, backup and restore)")
    return None


class GuardedConnection(sqlite3.Connection):
    """A connection whose statements raise StorageFault for disk failures (``path`` set by ``connect``)."""

    path: Path

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        cursor = self.cursor(_GuardedCursor)
        cursor.execute(sql, parameters)
        return cursor

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        with guarded(self.path):
            return super().executescript(sql_script)


class _GuardedCursor(sqlite3.Cursor):
    """Rows are read from disk as they are fetched, so fetching is guarded too."""

    def execute(self, sql: str, parameters: Any = (), /) -> _GuardedCursor:  # type: ignore[override]
        with guarded(self._path, self):
            super().execute(sql, parameters)
        return self

    def fetchone(self) -> Any:
        with guarded(self._path, self):
            return super().fetchone()

    def fetchall(self) -> list[Any]:
        with guarded(self._path, self):
            return super().fetchall()

    def __next__(self) -> Any:
        with guarded(self._path, self):
            return super().__next__()

    @property
    def _path(self) -> Path:
        return self.connection.path  # type: ignore[attr-defined, no-any-return]


@contextmanager
def guarded(path: Path, cursor: sqlite3.Cursor | None = None) -> Iterator[None]:
    """Turn SQLite's disk errors (and OSError from the filesystem) into StorageFault.

    The failed cursor is closed first: the fault's traceback keeps it alive, and
    a live statement would keep the connection's files open after ``close()``
    (SQLite then only marks it a zombie), so a failed disk could not be unmounted.
    """
    try:
        yield
    except sqlite3.Error as exc:
        fault = storage_fault(exc, path)
        if fault is None:
            raise
        if cursor is not None:
            cursor.close()
        raise fault from exc
    except OSError as exc:
        raise diagnose(path, "disk_full" if exc.errno == errno.ENOSPC else "io_error") from exc


class _Released(GuardedConnection):
    """Stands in for a ledger connection let go while its disk fails: every statement raises that fault."""

    fault: StorageFault

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        raise self.fault

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        raise self.fault


def released(path: Path, fault: StorageFault) -> GuardedConnection:
    """A connection that holds no file: what a ledger keeps while its disk is unmounted and repaired."""
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False, factory=_Released)
    db.path, db.fault = path, fault
    return db


def connect(path: Path) -> GuardedConnection:
    """Open (or create) a ledger file for writing: WAL, synchronous=FULL, foreign keys on.

    Raises StorageFault, naming the file, if it cannot be opened (missing
    folder that cannot be made, read-only or failing disk, not a database).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise StorageFault("cannot_open", f"cannot make the ledger's folder {path.parent}: {exc.strerror}") from None
    with guarded(path):
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=GuardedConnection)
    db.path = path
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        db.close()
        raise
    return db
