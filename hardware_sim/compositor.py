"""A real Wayland kiosk compositor with no screen: cage nested in Xvfb, read with grim.

On a Pi the board runs under cage on the HDMI output. Here cage runs with
wlroots' X11 backend (``WLR_BACKENDS=x11``) inside a virtual X server, so its
output is an X window whose size ``resize()`` changes as an HDMI mode change
would; ``screenshot()`` asks cage itself for the output's pixels with grim.
(wlroots' headless backend gave black or frozen grim captures.)

cage refuses to run as root: started by root, it runs as ``nobody`` in a
runtime folder made for it under the system's temporary folder (a pytest
folder under /tmp/pytest-of-root is closed to ``nobody``). Its own child only keeps it alive; the board is
started by the caller as a Wayland client of ``wayland_display`` (an absolute
socket path), because the caller's Python may not be readable by ``nobody``.

Debian packages: cage, xwayland (cage will not start without it), xvfb,
xdotool, grim, libwayland-egl1 and libwayland-cursor0 (SDL's wayland driver
segfaults without them).

Example::

    with NestedCage(tmp_path, size=(1920, 1080)) as cage:
        board = subprocess.Popen([...], env={**os.environ, **cage.client_env()})
        cage.resize(1280, 720)
        cage.screenshot(tmp_path / "screen.png")
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

#: The programs this needs, each from the Debian package of the same name except Xvfb (xvfb).
PROGRAMS = ("Xvfb", "cage", "Xwayland", "xdotool", "grim")
NOBODY = 65534


def missing_programs() -> list[str]:
    """The programs of PROGRAMS not installed; empty when a NestedCage can run."""
    return [p for p in PROGRAMS if shutil.which(p) is None]


class NestedCage:
    """Xvfb + cage (x11 backend) owned by this object; ``stop()`` always ends both."""

    def __init__(self, directory: Path, size: tuple[int, int] = (1920, 1080)) -> None:
        self.directory = directory
        self.size = size
        self.runtime = Path("/nonexistent")
        self.x_display = ""
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._cage: subprocess.Popen[bytes] | None = None
        self._window = ""

    @property
    def wayland_display(self) -> str:
        return str(self.runtime / "wayland-0")

    @property
    def pid(self) -> int | None:
        """cage's process id (for figures such as its CPU time); None when not running."""
        return self._cage.pid if self._cage is not None else None

    def client_env(self) -> dict[str, str]:
        """What a Wayland client (the board) needs in its environment to show under this cage."""
        return {"WAYLAND_DISPLAY": self.wayland_display, "XDG_RUNTIME_DIR": str(self.runtime),
                "SDL_VIDEODRIVER": "wayland"}

    def start(self, timeout: float = 30.0, attempts: int = 3) -> None:
        """Start Xvfb and cage; a cage that dies at once (it could not reach the new X
        server: seen once on a machine running several suites) is tried with a fresh Xvfb."""
        for attempt in range(1, attempts + 1):
            try:
                self._start(timeout)
                return
            except RuntimeError as exc:
                if attempt == attempts or "(exited)" not in str(exc):
                    raise
                log.warning("cage did not start, trying again: %s", exc)

    def _start(self, timeout: float) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.runtime = Path(tempfile.mkdtemp(prefix="giliran-cage-"))
        log_file = (self.directory / "compositor.log").open("wb")
        read_fd, write_fd = os.pipe()
        try:
            self._xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "2000x2000x24", "-nolisten", "tcp", "-ac"],
                pass_fds=(write_fd,), stdout=log_file, stderr=subprocess.STDOUT)
            os.close(write_fd)
            with os.fdopen(read_fd, "rb") as pipe:
                number = pipe.readline().strip()
            if not number:
                raise RuntimeError(f"Xvfb did not start: {self._log_tail()}")
            self.x_display = f":{number.decode()}"
            # cage's X window has no name (wlroots fails to set it here): it is the window that
            # appears at the top level, beside the root that is there before.
            search = ["xdotool", "search", "--maxdepth", "1", "--name", ""]
            before = set(self._x(search, check=False).split())
            command = ["cage", "--", "sleep", "infinity"]
            if os.geteuid() == 0:
                os.chown(self.runtime, NOBODY, NOBODY)
                command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DISPLAY": self.x_display,
                   "WLR_BACKENDS": "x11", "XDG_RUNTIME_DIR": str(self.runtime)}
            self._cage = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                          start_new_session=True)
            deadline = time.monotonic() + timeout
            while not self._window:
                if self._cage.poll() is not None or time.monotonic() > deadline:
                    state = "exited" if self._cage.poll() is not None else f"no window within {timeout:g} s"
                    raise RuntimeError(f"cage did not start ({state}): {self._log_tail()}")
                found = sorted(set(self._x(search, check=False).split()) - before)
                self._window = found[0] if found and Path(self.wayland_display).exists() else ""
                time.sleep(0.05)
        except BaseException:
            log_file.close()
            self.stop()
            raise
        log_file.close()
        self.resize(*self.size)

    def _log_tail(self) -> str:
        log_path = self.directory / "compositor.log"
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines() if log_path.exists() else []
        return " | ".join(lines[-5:]) or "(no output)"

    def _x(self, command: list[str], check: bool = True) -> str:
        run = subprocess.run(command, env={**os.environ, "DISPLAY": self.x_display}, capture_output=True,
                             text=True, timeout=10, check=False)
        if check and run.returncode:
            raise RuntimeError(f"{' '.join(command)}: {run.stderr.strip()}")
        return run.stdout

    def resize(self, width: int, height: int) -> None:
        """Change the output's size, as plugging in another screen would; cage tells its clients."""
        self._x(["xdotool", "windowsize", self._window, str(width), str(height)])
        self.size = (width, height)

    def screenshot(self, path: Path) -> Path:
        """The output's pixels as a PNG, taken by grim from the compositor."""
        subprocess.run(["grim", str(path)], env={**os.environ, "WAYLAND_DISPLAY": self.wayland_display},
                       check=True, timeout=10, capture_output=True)
        return path

    def stop(self) -> None:
        if self._cage is not None:
            # cage aborts on SIGTERM, leaving Xwayland's socket and lock behind: end its child
            # instead, and cage exits as it does when its application ends.
            children = Path(f"/proc/{self._cage.pid}/task/{self._cage.pid}/children")
            for pid in children.read_text().split() if children.exists() else []:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGTERM)
            try:
                self._cage.wait(5)
            except subprocess.TimeoutExpired:  # cage and its children, in their own process group
                os.killpg(self._cage.pid, signal.SIGKILL)
                self._cage.wait()
        if self._xvfb is not None:
            self._xvfb.terminate()
            try:
                self._xvfb.wait(5)
            except subprocess.TimeoutExpired:
                self._xvfb.kill()
                self._xvfb.wait()
        self._cage = self._xvfb = None
        if self.runtime.name.startswith("giliran-cage-"):
            shutil.rmtree(self.runtime, ignore_errors=True)

    def __enter__(self) -> NestedCage:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
