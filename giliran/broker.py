"""Broker set-up from the site file: node accounts, passwords, ACLs, mosquitto.conf.

Every node has its own account; the ACL lets each role touch only its own
topics (a board only reads; counter 3 can only command counter 3; only the
kiosk publishes board state, events and replies; technicians may read all and
send commands and notices). Running ``giliran broker init`` again keeps the
existing passwords (and their hashes), so nodes already deployed keep working
and a re-run with the same inputs leaves every file as it was.

The broker's outward face is optional: a TLS listener for links beyond the
hall's network (certificates from giliran.tls), and a bridge that copies the
site's events, node status and board *out* to a head-office broker and takes
nothing in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from broker_config import template
from giliran.config import SiteConfig
from giliran.errors import GiliranError
from giliran.protocol import NodeRole, Topics
from giliran.tls import TlsFiles
from giliran.validation import load_toml

log = logging.getLogger(__name__)

TECHNICIAN = "technician"


@dataclass(frozen=True)
class Account:
    node_id: str
    role: NodeRole
    counter: int | None = None


@dataclass(frozen=True)
class BrokerFiles:
    config: Path
    passwd: Path
    acl: Path
    credentials_dir: Path


@dataclass(frozen=True)
class TlsListener:
    """A second listener with TLS, for clients beyond the hall's own network."""

    port: int
    files: TlsFiles
    bind: str = "0.0.0.0"


class HeadOfficeBridge(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The head-office broker this site copies its events, status and board to (a small TOML file).

    Example ``/etc/giliran/head-office.toml``::

        host = "mqtt.head-office.example"
        port = 8883
        username = "site-jpn-putrajaya"     # an account on the head-office broker
        password = "..."
        ca_file = "/etc/giliran/head-office-ca.crt"   # omit to trust the system's CAs
    """

    host: str
    username: str
    password: str
    port: int = 8883
    tls: bool = True
    ca_file: str | None = None
    name: str = "head-office"

    def __post_init__(self) -> None:
        for key in ("host", "username", "password", "name"):
            value = getattr(self, key)
            if not value or any(c.isspace() for c in value):
                raise ValueError(f"{key} must be non-empty with no spaces (it is a mosquitto.conf value)")
        if not self.name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"name {self.name!r} must be letters, digits, '-' or '_' (it is a topic level)")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a TCP port")
        if self.ca_file is not None and not self.tls:
            raise ValueError("ca_file is set but tls is false")


def load_bridge(path: Path) -> HeadOfficeBridge:
    """Read a head-office bridge file; ConfigError naming the key on any problem."""
    return load_toml(path, HeadOfficeBridge)


def bridge_topics(site_id: str) -> list[str]:
    """What a site copies to head office: events, node status, the board. Nothing else, nothing back."""
    t = Topics(site_id)
    return [f"{t.root}/event/#", f"{t.root}/status/#", t.board]


def head_office_acl(site_id: str, username: str) -> str:
    """ACL lines for the head-office broker: the site's bridge account may write its own site's tree only."""
    lines = [f"user {username}", *(f"topic write {topic}" for topic in bridge_topics(site_id))]
    return "\n".join(lines) + "\n"


def accounts(site: SiteConfig) -> list[Account]:
    """Every MQTT account a site needs, one per node plus one for technicians."""
    found = [Account("kiosk", "kiosk")]
    found += [Account(f"display-{d.id}", "display") for d in site.displays]
    found += [Account(f"counter-{c.id}", "counter", c.id) for c in site.counters]
    found.append(Account(TECHNICIAN, "technician"))
    return found


def acl_text(site: SiteConfig) -> str:
    """The Mosquitto ACL file for a site."""
    t = Topics(site.site.id)
    blocks = [f"# Giliran ACL for site {site.site.id}; written by `giliran broker init`.\n"]
    for acc in accounts(site):
        lines = [f"user {acc.node_id}"]
        own = [f"topic write {t.status(acc.node_id)}", f"topic read {t.node_cmd(acc.node_id)}",
               f"topic write {t.node_reply(acc.node_id)}"]
        if acc.role == "kiosk":
            lines += [f"topic write {t.board}", f"topic write {t.root}/event/#",
                      f"topic read {t.counter_cmd('+')}", f"topic write {t.root}/counter/+/reply/#",
                      f"topic write {t.counter_reply('+')}", *own]
        elif acc.role == "display":
            lines += [f"topic read {t.board}", f"topic read {t.notice}", f"topic read {t.status('kiosk')}",
                      f"topic write {t.event('error')}", *own]
        elif acc.role == "counter":
            n = acc.counter
            lines += [f"topic write {t.counter_cmd(n or 0)}", f"topic read {t.counter_reply(n or 0)}",
                      f"topic read {t.counter_reply(n or 0)}/#", f"topic read {t.board}",
                      f"topic write {t.event('error')}", *own]
        elif acc.role == "technician":
            lines += [f"topic read {t.root}/#", f"topic write {t.counter_cmd('+')}",
                      f"topic write {t.node_cmd('+')}", f"topic write {t.notice}",
                      f"topic write {t.status(acc.node_id)}"]
        else:  # a role this code does not know gets no topic at all, not someone else's rights
            log.warning("ACL: account %s has unknown role %r; it gets no topics", acc.node_id, acc.role)
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _hash_matches(hashed: str, password: str) -> bool:
    """Whether a mosquitto_passwd 2.x hash ($7$: PBKDF2-SHA512) is of ``password``; other kinds are made anew."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    try:
        iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    except ValueError:
        return False
    candidate = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, len(digest))
    return hmac.compare_digest(candidate, digest)


def _password_file_text(passwords: dict[str, str], passwd: Path, tool: str) -> str:
    """The password file: an existing hash that still matches is kept, the others made by mosquitto_passwd.

    mosquitto_passwd salts every hash afresh, so hashing all again would change
    the file on every run; keeping good hashes makes a re-run change nothing.
    """
    old: dict[str, str] = {}
    if passwd.exists():
        for line in passwd.read_text(encoding="utf-8").splitlines():
            user, sep, hashed = line.partition(":")
            if sep:
                old[user] = hashed
    hashes = {u: old[u] for u, p in passwords.items() if u in old and _hash_matches(old[u], p)}
    fresh = {u: p for u, p in passwords.items() if u not in hashes}
    if fresh:
        fd, tmp = tempfile.mkstemp(prefix=".passwd-", dir=passwd.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(f"{u}:{p}\n" for u, p in fresh.items())
            subprocess.run([tool, "-U", tmp], check=True, capture_output=True)
            for line in Path(tmp).read_text(encoding="utf-8").splitlines():
                user, _, hashed = line.partition(":")
                hashes[user] = hashed
        finally:
            os.unlink(tmp)
    return "".join(f"{u}:{hashes[u]}\n" for u in passwords)


def _write(path: Path, text: str, mode: int) -> None:
    """Write ``text`` only if it differs (a re-run leaves files untouched) and set ``mode``."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def _tls_block(tls: TlsListener | None, seen: Callable[[Path], Path]) -> str:
    if tls is None:
        return ""
    return template("tls.conf.template").format(
        tls_port=tls.port, tls_bind=tls.bind, ca_file=seen(tls.files.ca_cert),
        cert_file=seen(tls.files.cert), key_file=seen(tls.files.key),
    )


def _bridge_block(site: SiteConfig, bridge: HeadOfficeBridge | None) -> str:
    if bridge is None:
        return ""
    tls_lines = ""
    if bridge.tls:
        tls_lines = (f"bridge_cafile {bridge.ca_file}\n" if bridge.ca_file else "bridge_capath /etc/ssl/certs\n")
        tls_lines += "bridge_insecure false\n"
    return template("bridge.conf.template").format(
        site=site.site.id, name=bridge.name, host=bridge.host, port=bridge.port, username=bridge.username,
        password=bridge.password, tls_lines=tls_lines,
        topic_lines="".join(f"topic {topic} out 1\n" for topic in bridge_topics(site.site.id)),
    )


def _existing_password(path: Path) -> str | None:
    try:
        value = tomllib.loads(path.read_text(encoding="utf-8")).get("password")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return value if isinstance(value, str) else None


def write_broker_files(
    site: SiteConfig,
    out_dir: Path,
    *,
    port: int | None = None,
    bind: str = "127.0.0.1",
    run_as: str | None = None,
    log_dest: str | None = None,
    data_dir: Path | None = None,
    tls: TlsListener | None = None,
    bridge: HeadOfficeBridge | None = None,
    root: Path | None = None,
) -> BrokerFiles:
    """Write mosquitto.conf, the password and ACL files and one credentials file per node.

    ``run_as`` adds a ``user`` line: only for test brokers started as root,
    whose 0600 files the dropped-privilege 'mosquitto' user could not read.
    ``data_dir`` is where Mosquitto keeps retained messages and sessions
    (default ``out_dir/data``; /var/lib/mosquitto on a Pi). ``tls`` adds a TLS
    listener; ``bridge`` an out-only bridge to head office. mosquitto.conf is
    0640 because a bridge puts the head-office password in it.

    ``root`` is where the target system's ``/`` is mounted while installing
    into a folder (``systemd/install.sh --root``): files are written under it,
    but mosquitto.conf names them as that system will see them.
    """

    def seen(path: Path) -> Path:
        path = path.resolve()
        return Path("/") / path.relative_to(root.resolve()) if root else path

    passwd_tool = shutil.which("mosquitto_passwd")
    if passwd_tool is None:
        raise GiliranError("mosquitto_passwd not found; install Debian's 'mosquitto' package")
    out_dir.mkdir(parents=True, exist_ok=True)
    creds_dir = out_dir / "credentials"
    creds_dir.mkdir(exist_ok=True)
    data_dir = data_dir or out_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    passwords: dict[str, str] = {}
    for acc in accounts(site):
        cred_file = creds_dir / f"{acc.node_id}.toml"
        password = _existing_password(cred_file) or secrets.token_urlsafe(24)
        _write(cred_file, f'# MQTT account of node {acc.node_id} ({acc.role}) at site {site.site.id}\n'
                          f'username = "{acc.node_id}"\npassword = "{password}"\n', 0o600)
        passwords[acc.node_id] = password
    passwd = out_dir / "passwd"
    _write(passwd, _password_file_text(passwords, passwd, passwd_tool), 0o600)
    acl = out_dir / "acl"
    _write(acl, acl_text(site), 0o600)
    config = out_dir / "mosquitto.conf"
    _write(config, template("mosquitto.conf.template").format(
        site=site.site.id,
        passwd_file=seen(passwd),
        acl_file=seen(acl),
        data_dir=seen(data_dir),
        log_dest=log_dest or f"file {seen(out_dir / 'mosquitto.log')}",
        user_line=f"user {run_as}\n" if run_as else "",
        port=port or site.broker.port,
        bind=bind,
        tls_block=_tls_block(tls, seen),
        bridge_block=_bridge_block(site, bridge),
    ), 0o640)
    log.info("wrote broker files for %d accounts to %s%s%s", len(passwords), out_dir,
             f"; TLS on port {tls.port}" if tls else "", f"; bridge to {bridge.host}" if bridge else "")
    return BrokerFiles(config, passwd, acl, creds_dir)


def share_with_mosquitto(files: BrokerFiles, data_dir: Path) -> None:
    """Let user 'mosquitto' read the broker files and keep its data: for Mosquitto started as root.

    Mosquitto started as root drops to user 'mosquitto' before it reads the
    password and ACL files, so root-only files fail with "Unable to open pwfile".
    The files become root:mosquitto 0640 and the data folder mosquitto's (the
    production config never says ``user root``). Every folder above them must
    let that user through, or this names the one that does not.
    """
    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        raise GiliranError("user 'mosquitto' does not exist; install Debian's 'mosquitto' package") from None
    folder = files.config.parent.resolve()
    for parent in [*reversed(folder.parents), data_dir.resolve().parent]:
        info = parent.stat()
        mine = info.st_uid == user.pw_uid and info.st_mode & stat.S_IXUSR
        ours = info.st_gid == user.pw_gid and info.st_mode & stat.S_IXGRP
        if not (mine or ours or info.st_mode & stat.S_IXOTH):
            raise GiliranError(f"Mosquitto runs as user 'mosquitto', which cannot enter {parent} to read {folder}: "
                               "use a --dir it can reach (e.g. under /srv or /var/lib), or run as a normal user")
    os.chown(folder, 0, user.pw_gid)
    folder.chmod(0o750)
    for path in (files.config, files.passwd, files.acl):
        os.chown(path, 0, user.pw_gid)
        path.chmod(0o640)
    for path in [data_dir, *data_dir.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
