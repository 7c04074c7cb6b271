"""Boot an installed tree under systemd-nspawn, isolated from the host, and drive it.

The container's root is an overlay: this machine's ``/`` read-only underneath,
a tmpfs on top, and the installed tree copied into that tmpfs, all inside a
private mount namespace (``unshare --mount``), so nothing it writes reaches the
host and the mounts vanish with it. systemd-nspawn also gives it its own /tmp,
network (loopback only) and PID namespace. Never boot systemd on the host's own
root: its ``systemd-tmpfiles --boot`` would empty the host's /tmp.

Commands run inside through ``nsenter`` into the container's namespaces.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

# Runs as root in a fresh mount namespace: the overlay, the tree on top, then systemd.
_BOOT = r"""
set -e
box="$1"; tree="$2"; shift 2
mount -t tmpfs -o mode=0755,size=1g giliran-test "$box"
mkdir "$box/upper" "$box/work" "$box/root"
mount -t overlay -o "lowerdir=/,upperdir=$box/upper,workdir=$box/work" giliran-test "$box/root"
cp -a "$tree/." "$box/root/"
exec systemd-nspawn --quiet --boot --directory="$box/root" "$@"
"""


def why_not_here() -> str | None:
    """Why containers cannot be booted on this machine, or None when they can."""
    if os.geteuid() != 0:
        return "booting a container needs root (CI runs as root)"
    for tool, package in (("systemd-nspawn", "systemd-container"), ("unshare", "util-linux"),
                          ("nsenter", "util-linux")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian package {package}; ./dev setup installs it)"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "the kernel has no overlay filesystem"
    if not Path("/usr/lib/systemd/systemd").exists():
        return "systemd is not installed here (Debian package systemd)"
    return None


class BootedTree:
    """A container booted from ``tree`` laid over this machine's root; ``close()`` powers it off."""

    def __init__(self, tree: Path, box: Path, binds: dict[Path, str], target: str, log: Path) -> None:
        box.mkdir(parents=True, exist_ok=True)
        args = [f"--machine=giliran-test-{os.getpid()}", "--private-network", "--keep-unit", "--register=no",
                *(f"--bind-ro={src}:{dest}" for src, dest in binds.items()), "--", f"--unit={target}"]
        self.log = log
        self._console = log.open("wb")
        self._nspawn = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", _BOOT, "boot", str(box), str(tree), *args],
            stdin=subprocess.DEVNULL, stdout=self._console, stderr=subprocess.STDOUT)
        try:
            self.pid = self._init_pid(timeout=30)
            self._wait_for_boot(timeout=60)
        except BaseException:
            self.close()
            raise

    def _init_pid(self, timeout: float) -> int:
        """The container's PID 1, seen from here: the child of systemd-nspawn that runs systemd."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._nspawn.poll() is not None:
                raise RuntimeError(f"systemd-nspawn exited with {self._nspawn.returncode}:\n{self.console()}")
            children = Path(f"/proc/{self._nspawn.pid}/task/{self._nspawn.pid}/children")
            for child in children.read_text().split() if children.exists() else []:
                try:
                    if Path(f"/proc/{child}/comm").read_text().strip() == "systemd":
                        return int(child)
                except OSError:
                    continue
            time.sleep(0.1)
        raise RuntimeError(f"no systemd in the container after {timeout} s:\n{self.console()}")

    def _wait_for_boot(self, timeout: float) -> None:
        """Until systemd says the boot is over; before its bus is up, systemctl says nothing."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.run("systemctl is-system-running --wait", timeout=timeout, check=False).stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the container did not boot within {timeout} s ({state or 'no answer'}):\n{self.console()}")

    def console(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def run(self, command: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``command`` run by bash inside the container, as root."""
        done = subprocess.run(["nsenter", "--target", str(self.pid), "--all", "--", "bash", "-c", command],
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"in the container, `{command}` exited {done.returncode}:\n{done.stdout}{done.stderr}")
        return done

    def show(self, unit: str, *props: str) -> dict[str, str]:
        """``systemctl show`` properties of ``unit``."""
        out = self.run(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, unit: str, identifier: str | None = None) -> str:
        """What ``unit`` logged this boot (only what ``identifier``, e.g. a program name, wrote, when given)."""
        match = f" SYSLOG_IDENTIFIER={identifier}" if identifier else ""
        return self.run(f"journalctl --no-pager -o cat -u {unit}{match}").stdout

    def close(self) -> None:
        """Power off (systemd-nspawn turns SIGTERM into a clean shutdown); kill it after 15 s."""
        if self._nspawn.poll() is None:
            self._nspawn.send_signal(signal.SIGTERM)
            try:
                self._nspawn.wait(15)
            except subprocess.TimeoutExpired:
                self._nspawn.kill()
                self._nspawn.wait()
        self._console.close()
