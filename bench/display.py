"""Display benchmark: call published → frame showing it with 20 boards subscribed; idle CPU and RSS of a board.

Run: ``.venv/bin/python -m bench.display`` (starts its own Mosquitto on a loopback port).

- Latency: the kiosk's ledger calls a ticket and publishes the board state; one
  real DisplayNode (offscreen) polls every millisecond and renders as soon as
  the state arrives; 19 more boards (their own accounts) receive every state.
  The figure is publish → frame rendered; a board rendering at 20 fps adds up
  to one frame (50 ms) on top.
- Idle: one DisplayNode in a child process, connected, rendering at 20 fps with
  nothing new to show, for ``--idle-seconds``; CPU time / wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import msgspec  # noqa: E402
import pygame  # noqa: E402

from bench.common import print_table, rss_mb, summary_ms  # noqa: E402
from bench.ledger import open_all_day  # noqa: E402
from display.node import FRAME_S, DisplayNode  # noqa: E402
from giliran.config import SiteConfig, load_site  # noqa: E402
from giliran.ledger import Ledger  # noqa: E402
from giliran.mqtt import MqttNode  # noqa: E402
from hardware_sim.broker import LocalBroker  # noqa: E402
from kiosk.service import LedgerService  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOARDS = 20


def bench_site() -> SiteConfig:
    """The example site with 20 boards (no PA: this measures the picture)."""
    site = open_all_day(load_site(ROOT / "examples" / "site.toml"))
    hall = msgspec.structs.replace(site.display("hall"), pa=False)
    boards = [msgspec.structs.replace(hall, id=f"board{i:02d}") for i in range(1, BOARDS + 1)]
    return msgspec.structs.replace(site, displays=boards)


def start_board(broker: LocalBroker, display_id: str) -> DisplayNode:
    cfg = broker.site.display(display_id)
    node = DisplayNode(broker.site, display_id, broker.credentials(f"display-{display_id}"),
                       pygame.Surface(cfg.resolution))
    node.start()
    node.mqtt.wait_connected(5)
    return node


def latencies(broker: LocalBroker, work: Path, calls: int) -> tuple[list[float], list[float]]:
    """(publish → state at the board, publish → frame rendered), in seconds, per call."""
    pygame.display.init()
    pygame.font.init()
    ledger = Ledger(work / "ledger.sqlite", broker.site, time.time)
    kiosk = MqttNode(broker.site, "kiosk", "kiosk", broker.credentials("kiosk"))
    service = LedgerService(ledger, kiosk)
    kiosk.start()
    kiosk.wait_connected(5)
    others = []
    for i in range(2, BOARDS + 1):
        node = MqttNode(broker.site, f"display-board{i:02d}", "display", broker.credentials(f"display-board{i:02d}"))
        node.subscribe(node.topics.board, lambda _m: None)
        node.start()
        node.wait_connected(5)
        others.append(node)
    board = start_board(broker, "board01")
    arrived: list[float] = []
    rendered: list[float] = []
    try:
        for _ in range(calls + calls // 2):
            ledger.confirm(ledger.reserve("mykad").id)
        for i in range(calls + 10):
            called = ledger.next(2)
            start = time.perf_counter()
            service.changed()  # builds and publishes the retained board state
            deadline = start + 5
            while time.perf_counter() < deadline:
                state = board.state
                if state is not None and state.calls and state.calls[0].number == called.number:
                    seen = time.perf_counter()
                    board.frame()
                    break
                time.sleep(0.0005)
            else:
                raise RuntimeError(f"board never showed {called.number}")
            if i >= 10:
                arrived.append(seen - start)
                rendered.append(time.perf_counter() - start)
    finally:
        board.close()
        for node in others:
            node.stop()
        service.close()
        kiosk.stop()
        ledger.close()
    return arrived, rendered


def idle_child(port: int, credentials_dir: str, seconds: float) -> None:
    """Run in a child process: one idle board, then print 'cpu_share rss_mb'."""
    site = bench_site()
    site = msgspec.structs.replace(site, broker=msgspec.structs.replace(site.broker, port=port,
                                                                       credentials_dir=credentials_dir))
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode(site.display("board01").resolution)
    from giliran.mqtt import credentials_for

    node = DisplayNode(site, "board01", credentials_for(site, "display-board01"), screen)
    node.start()
    node.mqtt.wait_connected(5)
    deadline = time.monotonic() + 2
    while node.state is None and time.monotonic() < deadline:
        time.sleep(0.01)
    for _ in range(10):  # first full paint, not idle
        rects = node.frame()
        if rects:
            pygame.display.update(rects)
    cpu0, wall0 = time.process_time(), time.monotonic()
    while time.monotonic() - wall0 < seconds:
        rects = node.frame()
        if rects:
            pygame.display.update(rects)
        time.sleep(FRAME_S)
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    node.close()
    print(f"{cpu / wall:.4f} {rss_mb():.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--idle-child", nargs=2, metavar=("PORT", "CREDENTIALS_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.idle_child:
        idle_child(int(args.idle_child[0]), args.idle_child[1], args.idle_seconds)
        return
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(bench_site(), Path(tmp) / "broker") as broker:
        arrived, rendered = latencies(broker, Path(tmp), args.calls)
        # The idle board needs a retained board state to show: publish one from a kiosk.
        ledger = Ledger(Path(tmp) / "idle.sqlite", broker.site, time.time)
        kiosk = MqttNode(broker.site, "kiosk", "kiosk", broker.credentials("kiosk"))
        service = LedgerService(ledger, kiosk)
        kiosk.start()
        kiosk.wait_connected(5)
        idle = {}
        try:
            for driver in ("dummy", "offscreen"):
                child = subprocess.run(
                    [sys.executable, "-m", "bench.display", "--idle-seconds", str(args.idle_seconds),
                     "--idle-child", str(broker.port), str(broker.files.credentials_dir)],
                    capture_output=True, text=True, check=True, cwd=ROOT, timeout=args.idle_seconds + 60,
                    env={**os.environ, "SDL_VIDEODRIVER": driver},
                )
                idle[driver] = [float(x) for x in child.stdout.split()[-2:]]
        finally:
            service.close()
            kiosk.stop()
            ledger.close()
    arrival, frame = summary_ms(arrived), summary_ms(rendered)
    print_table("Display (bench/display.py)", [
        (f"call published → board state at a board, p50 ({args.calls} calls, {BOARDS} boards subscribed)",
         f"{arrival['p50']:.2f} ms", "—"),
        ("call published → board state at a board, p99", f"{arrival['p99']:.2f} ms", "—"),
        ("call published → frame rendered (1920x1080), p50", f"{frame['p50']:.2f} ms", "—"),
        ("call published → frame rendered (1920x1080), p99", f"{frame['p99']:.2f} ms", "<= 5 ms + one frame"),
        (f"idle board CPU, {args.idle_seconds:g} s at 20 fps, SDL dummy driver (our code)",
         f"{idle['dummy'][0]:.1%} of a core", "<= 3%"),
        ("idle board CPU, SDL offscreen driver (+ Mesa software GL)", f"{idle['offscreen'][0]:.1%} of a core", "—"),
        ("idle board peak RSS, SDL dummy driver", f"{idle['dummy'][1]:.0f} MB", "<= 80 MB"),
        ("idle board peak RSS, SDL offscreen driver (loads Mesa llvmpipe, ~100 MB)",
         f"{idle['offscreen'][1]:.0f} MB", "—"),
    ])


if __name__ == "__main__":
    main()
