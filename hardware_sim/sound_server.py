"""A real sound server with no sound card: PulseAudio with a null sink, recorded with parec.

The board's PA plays through SDL's alsa driver, as the systemd unit sets it;
ALSA's default device is PulseAudio through the ALSA pulse plugin (Debian's
libasound2-plugins with pulseaudio installed). The null sink consumes audio
at real-time pace, like a sound card, and its monitor source gives back the
samples that were played. (ALSA's own null or file outputs take audio far
faster than real time: no timing would be tested.)

The server listens only on a socket in its own folder; a client reaches it
with ``client_env()`` (``PULSE_SERVER``), so nothing of the machine's own
sound set-up is used or changed.

Debian packages: pulseaudio, pulseaudio-utils (parec), libasound2-plugins.

Example::

    with NullSinkServer(tmp_path, rate=22050) as pa, pa.record(tmp_path / "pa.raw"):
        subprocess.run([...], env={**os.environ, **pa.client_env(), "SDL_AUDIODRIVER": "alsa"})
    (tmp_path / "pa.raw").read_bytes()   # 16-bit mono PCM, as heard
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

PROGRAMS = ("pulseaudio", "parec", "pactl")
SINK = "giliran"


def missing_parts() -> list[str]:
    """What is not installed of what a NullSinkServer and an ALSA client of it need."""
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    plugins = list(Path("/usr/lib").glob("*/alsa-lib/libasound_module_pcm_pulse.so"))
    if not plugins:
        missing.append("the ALSA pulse plugin (libasound2-plugins)")
    return missing


class NullSinkServer:
    """A PulseAudio process with one null sink (mono, 16-bit, ``rate``) owned by this object."""

    def __init__(self, directory: Path, rate: int) -> None:
        self.directory = directory
        self.rate = rate
        self.socket = directory / "native"
        self._proc: subprocess.Popen[bytes] | None = None

    def client_env(self) -> dict[str, str]:
        """What a client (SDL's alsa driver through the pulse plugin, parec) needs to reach this server."""
        return {"PULSE_SERVER": f"unix:{self.socket}"}

    def start(self, timeout: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        home = self.directory / "home"
        (home / "runtime").mkdir(parents=True, mode=0o700, exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
               "XDG_RUNTIME_DIR": str(home / "runtime"), "XDG_CONFIG_HOME": str(home)}
        with (self.directory / "pulseaudio.log").open("wb") as log_file:
            # -n: no default.pa (no card detection, no D-Bus, no network modules).
            self._proc = subprocess.Popen(
                ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--log-target=stderr",
                 "--use-pid-file=no", "--system=no",
                 "-L", f"module-null-sink sink_name={SINK} rate={self.rate} channels=1 format=s16le",
                 "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1"],
                env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"PulseAudio did not start; see {self.directory / 'pulseaudio.log'}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        if not self.socket.exists():
            return False
        run = subprocess.run(["pactl", "info"], env={**os.environ, **self.client_env()}, capture_output=True,
                             timeout=10, check=False)
        return run.returncode == 0

    @contextlib.contextmanager
    def record(self, path: Path) -> Iterator[Path]:
        """Record what the sink plays to ``path`` (raw 16-bit mono PCM at ``rate``) while in the block."""
        with path.open("wb") as out:
            proc = subprocess.Popen(
                ["parec", "-d", f"{SINK}.monitor", "--raw", "--format=s16le", f"--rate={self.rate}",
                 "--channels=1", "--latency-msec=50"],
                env={**os.environ, **self.client_env()}, stdout=out, stderr=subprocess.DEVNULL)
            try:
                yield path
            finally:
                proc.terminate()
                proc.wait(5)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> NullSinkServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
