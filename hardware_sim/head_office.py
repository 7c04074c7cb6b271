"""A stand-in for the head-office broker that sites bridge their events, status and board to.

Head office runs its own broker; all a site needs there is an account whose
ACL lets it write its own site's tree (``giliran.broker.head_office_acl``).
This one is a real Mosquitto on a free loopback port with such an account per
site and a ``head-office`` account that may read and write everything, so a
test can try to push commands back into a site.

Example::

    with HeadOfficeBroker(tmp_path / "ho") as ho:
        bridge = ho.bridge_for("jpn-putrajaya")      # pass to write_broker_files(bridge=...)
        user, password = ho.account("head-office")
"""

from __future__ import annotations

import getpass
import logging
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from giliran.broker import HeadOfficeBridge, head_office_acl
from giliran.errors import GiliranError
from hardware_sim.mosquitto_process import MosquittoProcess, free_port

log = logging.getLogger(__name__)

HEAD_OFFICE_USER = "head-office"


def _bridge_user(site_id: str) -> str:
    return f"site-{site_id}"


class HeadOfficeBroker:
    """A Mosquitto process owned by this object, with bridge accounts for ``sites``; ``stop()`` always kills it."""

    def __init__(self, directory: Path, sites: tuple[str, ...] = ("jpn-putrajaya",), *,
                 bridge_may_read: bool = False) -> None:
        """``bridge_may_read`` lets bridge accounts read everything here, as a careless head office
        might: then only the site's own bridge config keeps head-office messages out."""
        self.directory = directory
        self.port = free_port()
        self._passwords = {HEAD_OFFICE_USER: secrets.token_urlsafe(16)}
        self._passwords |= {_bridge_user(s): secrets.token_urlsafe(16) for s in sites}
        directory.mkdir(parents=True, exist_ok=True)
        passwd = directory / "passwd"
        passwd.touch(mode=0o600)
        passwd.write_text("".join(f"{u}:{p}\n" for u, p in self._passwords.items()), encoding="utf-8")
        tool = shutil.which("mosquitto_passwd")
        if tool is None:
            raise GiliranError("mosquitto_passwd not found; install Debian's 'mosquitto' package")
        subprocess.run([tool, "-U", str(passwd)], check=True, capture_output=True)
        acl = directory / "acl"
        extra = "topic read #\n" if bridge_may_read else ""
        acl.write_text(f"user {HEAD_OFFICE_USER}\ntopic readwrite #\n\n"
                       + "\n".join(head_office_acl(s, _bridge_user(s)) + extra for s in sites), encoding="utf-8")
        self.config = directory / "mosquitto.conf"
        user_line = f"user {getpass.getuser()}\n" if os.geteuid() == 0 else ""
        self.config.write_text(
            "per_listener_settings false\nallow_anonymous false\n"
            f"password_file {passwd}\nacl_file {acl}\npersistence false\nset_tcp_nodelay true\n"
            f"log_dest file {directory / 'mosquitto.log'}\nconnection_messages true\n{user_line}"
            f"listener {self.port} 127.0.0.1\n", encoding="utf-8")
        self._process = MosquittoProcess(self.config, directory / "mosquitto.log")

    def account(self, user: str) -> tuple[str, str]:
        return user, self._passwords[user]

    def bridge_for(self, site_id: str) -> HeadOfficeBridge:
        """The bridge settings a site needs to reach this broker (plain TCP on loopback)."""
        user, password = self.account(_bridge_user(site_id))
        return HeadOfficeBridge(host="127.0.0.1", port=self.port, username=user, password=password, tls=False)

    def start(self, timeout: float = 10.0) -> None:
        self._process.start([self.port], timeout)

    def stop(self) -> None:
        self._process.stop()

    def __enter__(self) -> HeadOfficeBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
