"""The ledger's disk fails under a running kiosk: full, read-only, I/O errors, on real filesystems.

Each test mounts its own small filesystem (CI runs as root): a size-limited
tmpfs for a full disk; an ext4 image on a loop device for the rest. ext4 makes
the real failures: ``trigger_fs_error`` remounts it read-only as an SD card's
errors would (``errors=remount-ro``), and ``EXT4_IOC_SHUTDOWN`` makes every
read and write fail with EIO. The way back is what a technician does: free
space, or unmount and mount the filesystem again.
"""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest
from gpiozero.pins.mock import MockFactory

from counter.commands import CounterClient
from giliran.protocol import ErrorEvent, NodeStatus, decode
from hardware_sim.broker import LocalBroker
from hardware_sim.printer import SimulatedPrinter
from kiosk.lamps import LampMode
from kiosk.node import PRINTER_POLL_S, KioskNode

pytestmark = pytest.mark.faults

EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32)
MYKAD_PIN = 6


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _mount_or_skip(*args: str) -> None:
    done = _run("mount", *args)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a test filesystem here (mount {' '.join(args)}): {done.stderr.strip()}")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs: small enough to fill in a moment."""
    where = tmp_path / "disk"
    where.mkdir()
    _mount_or_skip("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where))
    try:
        yield where
    finally:
        _run("umount", "-l", str(where))


class Ext4:
    """An ext4 image on a loop device, mounted with errors=remount-ro like a Pi's root."""

    def __init__(self, image: Path, where: Path) -> None:
        self.image, self.where = image, where

    def mount(self) -> None:
        _mount_or_skip("-o", "loop,errors=remount-ro", str(self.image), str(self.where))

    def device(self) -> str:
        return Path(_run("findmnt", "-no", "SOURCE", str(self.where)).stdout.strip()).name

    def error_remount_ro(self) -> None:
        """What ext4 does on a metadata error: remount read-only at once (emergency_ro)."""
        trigger = Path(f"/sys/fs/ext4/{self.device()}/trigger_fs_error")
        if not trigger.exists():
            pytest.skip(f"this kernel has no {trigger} to make a real ext4 error")
        trigger.write_text("1")

    def shut_down(self) -> None:
        """Every read and write on the filesystem fails with EIO from now on (a dying card)."""
        fd = os.open(self.where, os.O_RDONLY)
        try:
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, (0).to_bytes(4, "little"))
        finally:
            os.close(fd)

    def repair(self) -> None:
        """The technician's fix: unmount (lazily: the kiosk still holds the old files), fsck, mount again."""
        assert _run("umount", "-l", str(self.where)).returncode == 0
        assert _run("e2fsck", "-fy", str(self.image)).returncode in (0, 1)
        self.mount()


@pytest.fixture
def ext4(tmp_path: Path) -> Iterator[Ext4]:
    image, where = tmp_path / "disk.img", tmp_path / "disk"
    where.mkdir()
    with image.open("wb") as f:
        f.truncate(16 * 1024 * 1024)
    done = _run("mkfs.ext4", "-q", "-F", str(image))
    if done.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {done.stderr.strip()}")
    fs = Ext4(image, where)
    fs.mount()
    try:
        yield fs
    finally:
        _run("umount", "-l", str(where))


def fill(disk: Path) -> Path:
    """Another program fills the disk to the last byte."""
    filler = disk / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\xff" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


class Monotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def make_kiosk(broker: LocalBroker, clock) -> Iterator[Callable[..., KioskNode]]:  # type: ignore[no-untyped-def]
    made: list[KioskNode] = []

    def make(ledger: Path, printer: SimulatedPrinter | None = None) -> KioskNode:
        site = msgspec.structs.replace(broker.site, printer=msgspec.structs.replace(broker.site.printer,
                                                                                    closed_slip=False))
        node = KioskNode(site, broker.credentials("kiosk"), pin_factory=MockFactory(),
                         printer=printer or SimulatedPrinter("TM-T20II"), clock=clock, monotonic=Monotonic(),
                         ledger_path=ledger)
        node.start()
        node.mqtt.wait_connected(5)
        made.append(node)
        return node

    try:
        yield make
    finally:
        for node in made:
            node.close()
            node.pin_factory.close()


def press(node: KioskNode) -> None:
    pin = node.pin_factory.pin(MYKAD_PIN)
    pin.drive_low()
    pin.drive_high()
    node.presses.clock.t += 5  # type: ignore[attr-defined]


def poll(node: KioskNode) -> None:
    """The kiosk's main loop runs for one printer/disk poll period."""
    node.presses.clock.t += PRINTER_POLL_S  # type: ignore[attr-defined]  # the node's monotonic clock
    node.tick()


def lamps(node: KioskNode) -> set[LampMode | None]:
    return {node.lamps.mode(c.id) for c in node.ledger.site.categories if c.lamp_pin is not None}


def paper(node: KioskNode) -> list[str]:
    return node.printer.tickets()  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def hall(connect, recorder):  # type: ignore[no-untyped-def]
    """What a technician watching the hall sees: the kiosk's status and error events."""
    tech = connect("technician", "technician")
    statuses, errors = recorder(), recorder()
    tech.subscribe(tech.topics.status("kiosk"), statuses)
    tech.subscribe(tech.topics.event("error"), errors)

    class Hall:
        seen = 0  # statuses before this one are history

        def status(self, predicate: Callable[[dict[str, object]], bool]) -> dict[str, object]:
            """The first status since the last one matched that matches ``predicate``."""
            def position(m) -> int:  # type: ignore[no-untyped-def]  # by identity: statuses repeat
                return next(i for i, seen in enumerate(statuses.messages) if seen is m)

            def fresh(m) -> bool:  # type: ignore[no-untyped-def]
                return (position(m) >= self.seen and m.payload != b""
                        and predicate(decode(m.payload, NodeStatus).details))
            msg = statuses.wait_for(fresh)
            self.seen = position(msg) + 1
            return decode(msg.payload, NodeStatus).details

        def error(self, code: str) -> ErrorEvent:
            msg = errors.wait_for(lambda m: decode(m.payload, ErrorEvent).code == code)
            return decode(msg.payload, ErrorEvent)

        def errors(self, code: str) -> int:
            return sum(decode(m.payload, ErrorEvent).code == code for m in errors.messages)

    return Hall()


def counter(broker: LocalBroker, connect, n: int = 3) -> CounterClient:  # type: ignore[no-untyped-def]
    return CounterClient(broker.site, n, None, node=connect(f"counter-{n}", "counter"))


# --- disk full -------------------------------------------------------------------------


def test_a_full_disk_stops_new_tickets_says_why_and_recovers_by_itself(
    make_kiosk, tmpfs: Path, hall, broker: LocalBroker, connect
) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk(tmpfs / "ledger.sqlite")
    press(node)
    assert len(paper(node)) == 1 and lamps(node) == {LampMode.READY}
    filler = fill(tmpfs)
    poll(node)

    event = hall.error("ledger_disk_full")
    assert "full" in event.message and str(tmpfs) in event.message
    details = hall.status(lambda d: d.get("ledger") == "disk_full")
    assert "df -h" in str(details["ledger_message"])
    assert lamps(node) == {LampMode.FAULT}
    press(node)
    assert len(paper(node)) == 1, "no ticket may be printed that the ledger cannot record"
    assert hall.status(lambda d: d.get("refused_ledger_fault") == 1)

    desk = counter(broker, connect)
    reply = desk.command("next")
    assert not reply.ok and reply.error is not None
    assert reply.error.code == "ledger_disk_full" and "full" in reply.error.message
    poll(node)
    assert hall.errors("ledger_disk_full") == 1, "one event per fault, not one per poll"

    filler.unlink()
    poll(node)
    assert hall.status(lambda d: d.get("ledger") == "ok")
    assert lamps(node) == {LampMode.READY}
    press(node)
    assert "A002" in paper(node)[-1]
    called = desk.command("next")
    assert called.ok and called.ticket is not None and called.ticket.number == "A001"


class FillsTheDiskWhilePrinting(SimulatedPrinter):
    """Another program fills the disk while the ticket is on its way to the paper."""

    disk: Path | None = None

    def _raw(self, msg: bytes) -> None:
        if self.disk is not None and b"\x1dV" in msg:  # the cut: the ticket is printed
            fill(self.disk)
            self.disk = None
        super()._raw(msg)


def test_a_ticket_printed_as_the_disk_fills_is_still_called(
    make_kiosk, tmpfs: Path, hall, broker: LocalBroker, connect
) -> None:  # type: ignore[no-untyped-def]
    printer = FillsTheDiskWhilePrinting("TM-T20II")
    node = make_kiosk(tmpfs / "ledger.sqlite", printer)
    printer.disk = tmpfs
    press(node)
    assert "A001" in paper(node)[0]
    assert [t.number for t in node.ledger.waiting()] == ["A001"], "the printed ticket is in the queue"
    hall.error("ledger_disk_full")
    assert lamps(node) == {LampMode.FAULT}

    (tmpfs / "filler").unlink()
    poll(node)
    hall.status(lambda d: d.get("ledger") == "ok")
    called = counter(broker, connect).command("next")
    assert called.ok and called.ticket is not None and called.ticket.number == "A001"


# --- read-only and I/O errors ------------------------------------------------------------


def test_a_filesystem_remounted_read_only_stops_tickets_and_recovers_after_a_remount(
    make_kiosk, ext4: Ext4, hall, broker: LocalBroker, connect
) -> None:  # type: ignore[no-untyped-def]
    node = make_kiosk(ext4.where / "ledger.sqlite")
    press(node)
    ext4.error_remount_ro()
    poll(node)  # seen before anyone presses
    assert "read-only" in hall.error("ledger_read_only").message
    hall.status(lambda d: d.get("ledger") == "read_only")
    assert lamps(node) == {LampMode.FAULT}
    press(node)
    assert len(paper(node)) == 1
    desk = counter(broker, connect)
    reply = desk.command("next")
    assert not reply.ok and reply.error is not None and reply.error.code == "ledger_read_only"

    ext4.repair()
    poll(node)
    hall.status(lambda d: d.get("ledger") == "ok")
    assert lamps(node) == {LampMode.READY}
    called = desk.command("next")
    assert called.ok and called.ticket is not None and called.ticket.number == "A001"
    press(node)
    assert "A002" in paper(node)[-1]


class FailsTheDiskWhilePrinting(SimulatedPrinter):
    fs: Ext4 | None = None

    def _raw(self, msg: bytes) -> None:
        if self.fs is not None and b"\x1dV" in msg:
            self.fs.shut_down()
            self.fs = None
        super()._raw(msg)


def test_io_errors_keep_the_kiosk_up_and_a_printed_ticket_is_recorded_when_the_disk_is_back(
    make_kiosk, ext4: Ext4, hall, broker: LocalBroker, connect
) -> None:  # type: ignore[no-untyped-def]
    printer = FailsTheDiskWhilePrinting("TM-T20II")
    node = make_kiosk(ext4.where / "ledger.sqlite", printer)
    printer.fs = ext4
    press(node)  # prints A001; the disk dies before the ticket is confirmed
    assert "A001" in paper(node)[0]
    assert "I/O error" in hall.error("ledger_io_error").message
    hall.status(lambda d: d.get("ledger") == "io_error" and d.get("ledger_pending") == 1)
    assert lamps(node) == {LampMode.FAULT}
    node.publish_status()  # reading the ledger fails, the status still goes out
    press(node)
    assert len(paper(node)) == 1
    desk = counter(broker, connect)
    reply = desk.command("next")
    assert not reply.ok and reply.error is not None and reply.error.code == "ledger_io_error"

    ext4.repair()
    poll(node)
    hall.status(lambda d: d.get("ledger") == "ok" and d.get("ledger_pending") == 0)
    called = desk.command("next")
    assert called.ok and called.ticket is not None and called.ticket.number == "A001"
    press(node)
    assert "A002" in paper(node)[-1]


# --- a ledger that cannot be opened ---------------------------------------------------------


@pytest.mark.parametrize("existing", [False, True], ids=["new-ledger", "existing-ledger"])
def test_a_ledger_on_a_read_only_disk_stops_the_kiosk_with_one_line(
    broker: LocalBroker, tmpfs: Path, tmp_path: Path, existing: bool
) -> None:
    ledger = tmpfs / "ledger.sqlite"
    if existing:
        from giliran.ledger import Ledger

        Ledger(ledger, broker.site, lambda: 1.8e9).close()
    assert _run("mount", "-o", "remount,ro", str(tmpfs)).returncode == 0
    text = (Path(__file__).resolve().parents[2] / "examples" / "site.toml").read_text(encoding="utf-8")
    site = tmp_path / "site.toml"
    site.write_text(text.replace('ledger = "var/ledger.sqlite"', f'ledger = "{ledger}"', 1), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "giliran", "kiosk", "--site", str(site), "--credentials-dir",
                           str(broker.files.credentials_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("giliran:")]
    assert len(lines) == 1 and "cannot open its ledger" in lines[0] and "read-only" in lines[0], done.stderr
