"""Broker set-up from the site file: node accounts, passwords, ACLs, mosquitto.conf.

Every node has its own account; the ACL lets each role touch only its own
topics (a board only reads; counter 3 can only command counter 3; only the
kiosk publishes board state, events and replies; technicians may read all and
send commands and notices). Running ``giliran broker init`` again keeps the
existing passwords, so nodes already deployed keep working.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from broker_config import template
from giliran.config import SiteConfig
from giliran.errors import GiliranError
from giliran.protocol import NodeRole, Topics

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
        else:
            lines += [f"topic read {t.root}/#", f"topic write {t.counter_cmd('+')}",
                      f"topic write {t.node_cmd('+')}", f"topic write {t.notice}",
                      f"topic write {t.status(acc.node_id)}"]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


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
) -> BrokerFiles:
    """Write mosquitto.conf, the password and ACL files and one credentials file per node.

    ``run_as`` adds a ``user`` line: only for test brokers started as root,
    whose 0600 files the dropped-privilege 'mosquitto' user could not read.
    """
    passwd_tool = shutil.which("mosquitto_passwd")
    if passwd_tool is None:
        raise GiliranError("mosquitto_passwd not found; install Debian's 'mosquitto' package")
    out_dir.mkdir(parents=True, exist_ok=True)
    creds_dir = out_dir / "credentials"
    creds_dir.mkdir(exist_ok=True)
    data_dir = out_dir / "data"
    data_dir.mkdir(exist_ok=True)
    passwd = out_dir / "passwd"
    plain_lines = []
    for acc in accounts(site):
        cred_file = creds_dir / f"{acc.node_id}.toml"
        password = _existing_password(cred_file) or secrets.token_urlsafe(24)
        cred_file.write_text(
            f'# MQTT account of node {acc.node_id} ({acc.role}) at site {site.site.id}\n'
            f'username = "{acc.node_id}"\npassword = "{password}"\n',
            encoding="utf-8",
        )
        os.chmod(cred_file, 0o600)
        plain_lines.append(f"{acc.node_id}:{password}\n")
    passwd.write_text("".join(plain_lines), encoding="utf-8")
    os.chmod(passwd, 0o600)
    subprocess.run([passwd_tool, "-U", str(passwd)], check=True, capture_output=True)
    acl = out_dir / "acl"
    acl.write_text(acl_text(site), encoding="utf-8")
    os.chmod(acl, 0o600)
    config = out_dir / "mosquitto.conf"
    config.write_text(
        template("mosquitto.conf.template").format(
            site=site.site.id,
            passwd_file=passwd.resolve(),
            acl_file=acl.resolve(),
            data_dir=data_dir.resolve(),
            log_dest=log_dest or f"file {(out_dir / 'mosquitto.log').resolve()}",
            user_line=f"user {run_as}\n" if run_as else "",
            port=port or site.broker.port,
            bind=bind,
            tls_block="",
        ),
        encoding="utf-8",
    )
    log.info("wrote broker files for %d accounts to %s", len(plain_lines), out_dir)
    return BrokerFiles(config, passwd, acl, creds_dir)
