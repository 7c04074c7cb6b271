"""A real Mosquitto on a free loopback port, configured from broker_config/.

Used by the tests, the virtual office and the benchmarks: the same config
and ACLs as a site, only on 127.0.0.1 and a throwaway folder. It can be
stopped and started again (same port, same persistence) for fault tests.

Example::

    with LocalBroker(site, tmp_path) as broker:
        site = broker.site          # the site file pointed at this broker
        creds = broker.credentials("kiosk")
"""

from __future__ import annotations

import getpass
import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import msgspec

from giliran.broker import BrokerFiles, write_broker_files
from giliran.config import SiteConfig
from giliran.errors import GiliranError
from giliran.mqtt import Credentials

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalBroker:
    """A Mosquitto process owned by this object; ``stop()`` always kills it."""

    def __init__(self, site: SiteConfig, directory: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.directory = directory
        self.files: BrokerFiles = write_broker_files(
            site, directory, port=self.port, run_as=getpass.getuser() if os.geteuid() == 0 else None,
        )
        broker = msgspec.structs.replace(site.broker, host="127.0.0.1", port=self.port, tls=False,
                                         credentials_dir=str(self.files.credentials_dir))
        self.site = msgspec.structs.replace(site, broker=broker)
        self._process: subprocess.Popen[bytes] | None = None

    def credentials(self, node_id: str) -> Credentials:
        return Credentials.load(self.files.credentials_dir / f"{node_id}.toml")

    def start(self, timeout: float = 10.0) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise GiliranError("mosquitto not found; install Debian's 'mosquitto' package")
        self._process = subprocess.Popen([exe, "-c", str(self.files.config)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                log_file = self.directory / "mosquitto.log"
                tail = log_file.read_text()[-2000:] if log_file.exists() else ""
                raise GiliranError(f"mosquitto exited at start: {err}{tail}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise GiliranError(f"mosquitto did not listen on 127.0.0.1:{self.port} within {timeout} s")

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

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
