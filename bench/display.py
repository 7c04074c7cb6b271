"""Display benchmark: what an idle board costs, in CPU and memory.

Run: ``.venv/bin/python -m bench.display`` (starts its own Mosquitto on a loopback port);
``.venv/bin/python -m bench.repeat 5 bench.display`` for the spread over 5 runs.

One DisplayNode in a child process, connected, showing a retained board state
with nothing new arriving, runs the frame loop ``giliran display`` runs (20 fps
tick, a frame at once when a state arrives) for ``--idle-seconds``; the figures
are the process's CPU time / wall time and its peak RSS. How fast a call
reaches the screen is measured end to end by ``bench/call.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import msgspec  # noqa: E402
import pygame  # noqa: E402

from bench.common import print_table, rss_mb  # noqa: E402
from display.frames import present_loop  # noqa: E402
from display.node import DisplayNode  # noqa: E402
from giliran.config import SiteConfig, load_site  # noqa: E402
from giliran.ledger import Ledger  # noqa: E402
from giliran.mqtt import MqttNode, credentials_for  # noqa: E402
from hardware_sim.broker import LocalBroker  # noqa: E402
from kiosk.service import LedgerService  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOARD = "hall"


def idle_site() -> SiteConfig:
    """The example site; its hall board without the PA (this measures the picture)."""
    site = load_site(ROOT / "examples" / "site.toml")
    return msgspec.structs.replace(site, displays=[msgspec.structs.replace(site.display(BOARD), pa=False)])


def idle_child(port: int, credentials_dir: str, seconds: float) -> None:
    """Run in a child process: one idle board in the production frame loop, then print 'cpu_share rss_mb'."""
    site = idle_site()
    site = msgspec.structs.replace(site, broker=msgspec.structs.replace(site.broker, port=port,
                                                                       credentials_dir=credentials_dir))
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode(site.display(BOARD).resolution)
    node = DisplayNode(site, BOARD, credentials_for(site, f"display-{BOARD}"), screen)
    node.start()
    node.mqtt.wait_connected(5)
    deadline = time.monotonic() + 5
    while node.state is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if node.state is None:
        raise SystemExit("the idle board got no board state")
    stop = threading.Event()
    loop = threading.Thread(target=present_loop, args=(node.frame, pygame.display.update, node.pacer, stop))
    loop.start()
    time.sleep(1)  # the first full paint is not idle
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stop.set()
    loop.join(5)
    node.close()
    print(f"{cpu / wall:.4f} {rss_mb():.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--idle-child", nargs=2, metavar=("PORT", "CREDENTIALS_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.idle_child:
        idle_child(int(args.idle_child[0]), args.idle_child[1], args.idle_seconds)
        return
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(idle_site(), Path(tmp) / "broker") as broker:
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
    print_table("Display (bench/display.py)", [
        (f"idle board CPU, {args.idle_seconds:g} s of the frame loop (20 fps), SDL dummy driver (our code)",
         f"{idle['dummy'][0]:.1%} of a core", "<= 3%"),
        ("idle board CPU, SDL offscreen driver (+ Mesa software GL)", f"{idle['offscreen'][0]:.1%} of a core", "—"),
        ("idle board peak RSS, SDL dummy driver", f"{idle['dummy'][1]:.0f} MB", "<= 80 MB"),
        ("idle board peak RSS, SDL offscreen driver (loads Mesa llvmpipe, ~100 MB)",
         f"{idle['offscreen'][1]:.0f} MB", "—"),
    ])


if __name__ == "__main__":
    main()
