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
from pathlib import Path

import msgspec

from giliran.broker import BrokerFiles, write_broker_files
from giliran.config import SiteConfig
from giliran.mqtt import Credentials
from hardware_sim.mosquitto_process import MosquittoProcess, free_port

log = logging.getLogger(__name__)


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
        self._process = MosquittoProcess(self.files.config, directory / "mosquitto.log")

    def credentials(self, node_id: str) -> Credentials:
        return Credentials.load(self.files.credentials_dir / f"{node_id}.toml")

    def write_site_file(self, source: Path, path: Path, ledger: Path) -> Path:
        """``source`` (a site file like examples/site.toml) pointed at this broker, for node processes' ``--site``."""
        text = source.read_text(encoding="utf-8")
        text = text.replace("port = 1883", f"port = {self.port}")
        text = text.replace('ledger = "var/ledger.sqlite"', f'ledger = "{ledger}"')
        text = text.replace('credentials_dir = "/etc/giliran/credentials"',
                            f'credentials_dir = "{self.files.credentials_dir}"')
        path.write_text(text, encoding="utf-8")
        return path

    def start(self, timeout: float = 10.0) -> None:
        self._process.start(self.ports(), timeout)

    def ports(self) -> list[int]:
        """Every port this broker listens on (subclasses add theirs)."""
        return [self.port]

    def stop(self) -> None:
        self._process.stop()

    @property
    def running(self) -> bool:
        return self._process.running

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
