"""Board benchmark under a real compositor: what an idle ``giliran display`` costs under cage.

Run: ``.venv/bin/python -m bench.board_cage [--idle-seconds 30]`` (starts its own
Mosquitto, Xvfb and cage; needs the Debian packages ./dev set-up installs).

The real ``giliran display`` process shows the hall board (1920x1080, the sample
state, no PA) under cage nested in Xvfb, as on a Pi under cage on HDMI, with
SDL's wayland driver. SDL's wayland driver always goes through EGL, so Mesa is
loaded: here llvmpipe (software GL, on the CPU); on a Pi, the V3D GPU driver.
The figures are the board process's CPU time / wall time, its peak RSS, and
cage's own CPU time (composing the frames the board sends). Xvfb's CPU is an
artefact of nesting and is not counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import print_table
from display.sample import sample_board
from giliran.config import load_site
from giliran.mqtt import MqttNode
from giliran.protocol import NodeStatus, decode
from hardware_sim.broker import LocalBroker
from hardware_sim.compositor import NestedCage, missing_programs

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


def mesa_libraries(pid: int) -> list[str]:
    """The Mesa / EGL libraries mapped by the process (to say honestly what is loaded)."""
    names = set()
    for line in Path(f"/proc/{pid}/maps").read_text(encoding="ascii", errors="replace").splitlines():
        path = line.split()[-1]
        name = path.rsplit("/", 1)[-1]
        if any(part in name for part in ("mesa", "gallium", "dri.so", "libEGL", "libGLES", "llvm")):
            names.add(name)
    return sorted(names)


def wait_live(statuses: list[NodeStatus], size: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s.details.get("screen") == size and s.details.get("showing") == "live" for s in statuses[-3:]):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the board never showed live at {size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=30)
    args = parser.parse_args()
    missing = missing_programs()
    if missing:
        raise SystemExit(f"bench.board_cage needs {', '.join(missing)} (./dev setup installs them)")
    site = load_site(ROOT / "examples" / "site.toml")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with LocalBroker(site, tmp / "broker") as broker, NestedCage(tmp / "cage", size=(1920, 1080)) as cage:
            site_file = broker.write_site_file(ROOT / "examples" / "site.toml", tmp / "site.toml", tmp / "ledger")
            site_file.write_text(site_file.read_text(encoding="utf-8").replace("pa = true", "pa = false"),
                                 encoding="utf-8")
            kiosk = MqttNode(broker.site, "kiosk", "kiosk", broker.credentials("kiosk"))
            tech = MqttNode(broker.site, "technician", "technician", broker.credentials("technician"))
            statuses: list[NodeStatus] = []
            tech.subscribe(tech.topics.status("display-hall"), lambda m: statuses.append(decode(m.payload, NodeStatus)))
            for node in (kiosk, tech):
                node.start()
                node.wait_connected(5)
            kiosk.publish(kiosk.topics.board, sample_board(broker.site, dt.datetime.now(dt.UTC)), retain=True).wait(5)
            with (tmp / "board.log").open("w") as log:
                board = subprocess.Popen(
                    [sys.executable, "-m", "giliran", "display", "--site", str(site_file), "--id", "hall"],
                    env={**os.environ, **cage.client_env(), "SDL_AUDIODRIVER": "dummy"}, stdout=log,
                    stderr=subprocess.STDOUT)
            try:
                wait_live(statuses, "1920x1080", 30)
                time.sleep(3)  # the first full paint and start-up are not idle
                assert cage.pid is not None
                board0, cage0, wall0 = cpu_seconds(board.pid), cpu_seconds(cage.pid), time.monotonic()
                time.sleep(args.idle_seconds)
                board_cpu, cage_cpu = cpu_seconds(board.pid) - board0, cpu_seconds(cage.pid) - cage0
                wall = time.monotonic() - wall0
                peak, rss = status_mb(board.pid, "VmHWM"), status_mb(board.pid, "VmRSS")
                mesa = mesa_libraries(board.pid)
            finally:
                board.terminate()
                board.wait(10)
                kiosk.publish(kiosk.topics.board, b"", retain=True).wait(5)
                kiosk.stop()
                tech.stop()
    print_table("Board under cage (bench/board_cage.py)", [
        (f"idle board CPU under cage, {args.idle_seconds:g} s, SDL wayland driver (+ Mesa EGL)",
         f"{board_cpu / wall:.1%} of a core", "—"),
        ("cage's CPU while the board is idle (composing its frames)", f"{cage_cpu / wall:.1%} of a core", "—"),
        ("idle board peak RSS under cage", f"{peak:.0f} MB (now {rss:.0f} MB)", "—"),
        ("Mesa / EGL libraries loaded by the board", ", ".join(mesa) or "none", "—"),
    ])


if __name__ == "__main__":
    main()
