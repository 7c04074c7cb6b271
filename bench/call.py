"""Call benchmark: a counter's Next key → the number on 6 hall boards' screens, and on the counter's own number board.

Run: ``.venv/bin/python -m bench.call`` (starts its own Mosquitto on a loopback port);
``.venv/bin/python -m bench.repeat 5 bench.call`` for the spread over 5 runs.

The virtual office runs the real broker, the kiosk (its ledger, mock buttons,
simulated printer) and the six counters (mock keypads, number boards on ptys);
six real display nodes run as processes of their own (``bench/board_process.py``),
each rendering 1920x1080 frames at 20 fps on SDL's dummy screen and reading its
own presented pixels. For each call:

- **key → pixels**: counter 4's Next key is pressed on its gpiozero mock pin; the
  counter sends ``next``, the kiosk's durable ledger calls the next ticket and
  replies, the board state goes out through Mosquitto, and each board decodes it,
  renders and presents a frame. The figure ends when the called number's pixels
  are in the presented frame; every board is one sample, and "all 6 boards" is
  the last of them.
- **officer → reply**: the same press → the line with the new number has reached
  the counter's serial number board (a pty, read by the simulated board).

Everything shares this machine's cores, the boards included (on site each board
is its own Pi, and the kiosk and the counters theirs).
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import msgspec  # noqa: E402

from bench.common import print_table, summary_ms  # noqa: E402
from bench.ledger import open_all_day  # noqa: E402
from counter.node import REPEAT_S  # noqa: E402
from giliran.config import SiteConfig, load_site  # noqa: E402
from hardware_sim.kiosk_process import CustomerClock  # noqa: E402
from hardware_sim.office import VirtualOffice  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOARDS = 6
COUNTER = 4  # in every board's zone; serves birth and death
CATEGORY = "birth"
WARM_UP = 10
#: How long a call may take before the run is called off: an fsync on a disk shared with
#: other test suites has been seen to stall for seconds.
STALL_S = 30.0


def call_site() -> SiteConfig:
    """The example site open all day, with six 1920x1080 hall boards and no PA (this measures pixels)."""
    site = open_all_day(load_site(ROOT / "examples" / "site.toml"))
    hall = msgspec.structs.replace(site.display("hall"), pa=False)
    boards = [msgspec.structs.replace(hall, id=f"board{i}") for i in range(1, BOARDS + 1)]
    return msgspec.structs.replace(site, displays=boards)


class BoardProcess:
    """One board in its own process, and the lines it says."""

    def __init__(self, display_id: str, office: VirtualOffice, driver: str) -> None:
        self.display_id = display_id
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.board_process", "--display", display_id,
             "--broker-port", str(office.broker.port), "--credentials", str(office.broker.files.credentials_dir),
             "--driver", driver],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self._process.stdout is not None
        threading.Thread(target=self._read, args=(self._process.stdout,), daemon=True).start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._lines.put(line.strip())
        self._lines.put(None)

    def said(self, prefix: str, timeout: float) -> str:
        """The next line the board says, which must start with ``prefix``."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"{self.display_id} did not say {prefix!r} within {timeout} s") from None
        if line is None or not line.startswith(prefix):
            raise RuntimeError(f"{self.display_id} said {line!r}, not {prefix!r}")
        return line

    def send(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)


def measure(office: VirtualOffice, boards: list[BoardProcess], customers: CustomerClock,
            calls: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """Seconds per call: each board's key → pixels, the last board's, key → counter's number board,
    and each board's CPU time for the frame that showed the call."""
    kiosk = office.kiosk
    assert kiosk is not None
    waiting = [kiosk.ledger.confirm(kiosk.ledger.reserve(CATEGORY).id).number for _ in range(calls + WARM_UP)]
    kiosk.service.changed()
    counter, number_board = office.counter(COUNTER), office.counter_boards[COUNTER]
    each_board: list[float] = []
    all_boards: list[float] = []
    counter_board: list[float] = []
    board_cpu: list[float] = []
    for i, number in enumerate(waiting):
        for board in boards:
            board.send(f"EXPECT {number}")
        for board in boards:
            board.said(f"OK {number}", 10)
        customers.next_customer()  # past the keypad's repeat guard
        start = time.monotonic()
        counter.keypad.press("next")
        said = [board.said(f"SHOWN {number} ", STALL_S).split() for board in boards]
        shown = [float(words[2]) - start for words in said]
        job = counter.desk.last_job
        reply = job.result(STALL_S) if job is not None else None
        if reply is None or reply.ticket is None or reply.ticket.number != number:
            raise RuntimeError(f"counter {COUNTER}'s Next called {reply}, not {number}")
        number_board.wait_for(lambda line, n=number: line.split()[:1] == [n], STALL_S)  # type: ignore[misc]
        line_at = next(at for at, line in number_board.lines_at() if at >= start and line.split()[:1] == [number])
        if i >= WARM_UP:
            each_board += shown
            board_cpu += [float(words[3]) for words in said]
            all_boards.append(max(shown))
            counter_board.append(line_at - start)
        time.sleep(random.uniform(0.02, 0.07))  # presses fall anywhere in the boards' tick
    return each_board, all_boards, counter_board, board_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--driver", default="dummy", choices=["dummy", "offscreen"],
                        help="the boards' SDL video driver (offscreen adds Mesa's software GL copy per frame)")
    args = parser.parse_args()
    customers = CustomerClock(REPEAT_S + 1, base=time.time)
    with tempfile.TemporaryDirectory() as tmp, \
            VirtualOffice(call_site(), Path(tmp), clock=customers, boards=False) as office:
        boards = [BoardProcess(d.id, office, args.driver) for d in office.site.displays]
        try:
            for board in boards:
                board.said("READY", 60)
            each_board, all_boards, counter_board, board_cpu = measure(office, boards, customers, args.calls)
        finally:
            for board in boards:
                board.close()
    one, last, reply = summary_ms(each_board), summary_ms(all_boards), summary_ms(counter_board)
    cpu = summary_ms(board_cpu)
    print_table("Call (bench/call.py)", [
        (f"key → pixels: Next pressed → number in a board's presented frame, p50 ({args.calls} calls × "
         f"{BOARDS} rendering boards)", f"{one['p50']:.1f} ms", "—"),
        ("key → pixels, p99", f"{one['p99']:.1f} ms", "<= 30 ms"),
        ("key → pixels, max", f"{one['max']:.1f} ms", "—"),
        (f"key → pixels on all {BOARDS} boards (the last board), p50", f"{last['p50']:.1f} ms", "—"),
        (f"key → pixels on all {BOARDS} boards, p99", f"{last['p99']:.1f} ms", "—"),
        (f"key → pixels on all {BOARDS} boards, max", f"{last['max']:.1f} ms", "—"),
        ("CPU time a board spends drawing and presenting the call's frame, p50", f"{cpu['p50']:.1f} ms", "—"),
        ("CPU time a board spends drawing and presenting the call's frame, p99", f"{cpu['p99']:.1f} ms", "—"),
        ("officer → reply: Next pressed → the counter's number board shows the number, p50",
         f"{reply['p50']:.1f} ms", "—"),
        ("officer → reply, p99", f"{reply['p99']:.1f} ms", "—"),
        ("officer → reply, max", f"{reply['max']:.1f} ms", "—"),
    ])


if __name__ == "__main__":
    main()
