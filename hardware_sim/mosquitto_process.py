"""One Mosquitto process for tests and the simulator: start it, wait until it listens, stop it for sure."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path

from giliran.errors import GiliranError

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, deadline: float, alive: subprocess.Popen[bytes] | None = None) -> bool:
    """Poll 127.0.0.1:port until it accepts or ``deadline`` (monotonic) passes; False if not, or if it died."""
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class MosquittoProcess:
    """``mosquitto -c config``, owned by this object; ``stop()`` always ends it."""

    def __init__(self, config: Path, log_file: Path) -> None:
        self.config = config
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, ports: list[int], timeout: float = 10.0) -> None:
        """Start and wait until every port in ``ports`` accepts; GiliranError with the log's tail if not."""
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise GiliranError("mosquitto not found; install Debian's 'mosquitto' package")
        self._process = subprocess.Popen([exe, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        for port in ports:
            if not wait_listening(port, deadline, self._process):
                err = self._process.stderr.read().decode() if self._process.poll() is not None and \
                    self._process.stderr else ""
                tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
                self.stop()
                raise GiliranError(f"mosquitto ({self.config}) is not listening on 127.0.0.1:{port}: {err}{tail}")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
