"""A site broker with its outward face: a TLS listener and/or a bridge to a head-office broker.

The same files ``giliran broker init`` writes on a Pi (giliran.broker), on
free loopback ports in a throwaway folder, for tests and the virtual office.

Example::

    files = ensure_tls_files(tmp / "tls", site.site.id, ["127.0.0.1"])
    with HeadOfficeBroker(tmp / "ho") as ho, OutwardBroker(site, tmp / "site", tls=files,
                                                           bridge=ho.bridge_for(site.site.id)) as broker:
        node = MqttNode(broker.tls_site, "kiosk", "kiosk", broker.credentials("kiosk"))
"""

from __future__ import annotations

import getpass
import logging
import os
from pathlib import Path

import msgspec

from giliran.broker import HeadOfficeBridge, TlsListener, write_broker_files
from giliran.config import SiteConfig
from giliran.tls import TlsFiles
from hardware_sim.broker import LocalBroker
from hardware_sim.mosquitto_process import free_port

log = logging.getLogger(__name__)


class OutwardBroker(LocalBroker):
    """LocalBroker plus a TLS listener (``tls_port``, ``tls_site``) and/or an out-only head-office bridge."""

    def __init__(self, site: SiteConfig, directory: Path, *, tls: TlsFiles | None = None,
                 bridge: HeadOfficeBridge | None = None) -> None:
        super().__init__(site, directory)
        self.tls_port = free_port() if tls is not None else None
        listener = None
        if tls is not None and self.tls_port is not None:
            listener = TlsListener(self.tls_port, tls, bind="127.0.0.1")
        # The folder and accounts LocalBroker wrote, kept; mosquitto.conf gains the outward parts.
        run_as = getpass.getuser() if os.geteuid() == 0 else None
        self.files = write_broker_files(site, directory, port=self.port, run_as=run_as, tls=listener, bridge=bridge)
        self.tls_site = self.site
        if tls is not None and self.tls_port is not None:
            broker = msgspec.structs.replace(self.site.broker, port=self.tls_port, tls=True,
                                             ca_file=str(tls.ca_cert))
            self.tls_site = msgspec.structs.replace(self.site, broker=broker)

    def ports(self) -> list[int]:
        return [self.port] + ([self.tls_port] if self.tls_port is not None else [])

    def __enter__(self) -> OutwardBroker:
        self.start()
        return self
