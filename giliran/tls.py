"""A site's own certificate authority and the broker's server certificate, made with ``openssl``.

Why a site CA: the broker's TLS listener is for links beyond the hall's own
network (a technician over a VPN, a node in another building). Nodes trust only
the site CA (``broker.ca_file`` in the site file), not the public CAs, so no
certificate issued by anyone else can pose as the broker, and a Pi needs no
internet access or ACME client. We call Debian's ``openssl`` command rather
than adding a Python dependency.

Running it again keeps the CA (every node's trust) and the server certificate,
and issues a new server certificate only when it is missing, does not name
every host, was not signed by this CA or expires within 30 days.

Example::

    files = ensure_tls_files(Path("/etc/giliran/tls"), "jpn-putrajaya", ["broker.local", "192.168.1.10"])
    files.ca_cert     # copy to every node that connects over TLS; broker.ca_file points at it
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from giliran.errors import TlsError

log = logging.getLogger(__name__)

CA_DAYS = 3650
SERVER_DAYS = 825
RENEW_BEFORE_S = 30 * 86400
_CURVE = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


@dataclass(frozen=True)
class TlsFiles:
    """The four files of a site's TLS set-up, by their fixed names in one folder."""

    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path

    @classmethod
    def in_dir(cls, directory: Path) -> TlsFiles:
        return cls(directory / "ca.crt", directory / "ca.key", directory / "server.crt", directory / "server.key")


def _openssl(*args: str) -> str:
    exe = shutil.which("openssl")
    if exe is None:
        raise TlsError("openssl not found; install Debian's 'openssl' package")
    done = subprocess.run([exe, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TlsError(f"openssl {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600, so openssl writes the key into a file nobody else can read."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _normal_host(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower()


def _subject_alt_names(hosts: Sequence[str]) -> str:
    names = []
    for host in hosts:
        try:
            names.append(f"IP:{ipaddress.ip_address(host)}")
        except ValueError:
            names.append(f"DNS:{host}")
    return ",".join(names)


def certificate_hosts(cert: Path) -> set[str]:
    """The DNS names and IP addresses a certificate is valid for (its subjectAltName)."""
    text = _openssl("x509", "-in", str(cert), "-noout", "-ext", "subjectAltName")
    hosts = set()
    for line in text.splitlines()[1:]:
        for entry in line.split(","):
            kind, _, value = entry.strip().partition(":")
            if kind in ("DNS", "IP Address"):
                hosts.add(_normal_host(value))
    return hosts


def server_cert_problem(files: TlsFiles, hosts: Sequence[str]) -> str | None:
    """Why the server certificate must be issued (again), or None when it is fine as it is."""
    if not files.cert.exists() or not files.key.exists():
        return "there is none"
    try:
        _openssl("verify", "-CAfile", str(files.ca_cert), str(files.cert))
    except TlsError:
        return f"it was not signed by {files.ca_cert}"
    missing = {_normal_host(h) for h in hosts} - certificate_hosts(files.cert)
    if missing:
        return f"it does not name {', '.join(sorted(missing))}"
    try:
        _openssl("x509", "-in", str(files.cert), "-noout", "-checkend", str(RENEW_BEFORE_S))
    except TlsError:
        return "it expires within 30 days"
    return None


def make_ca(files: TlsFiles, site_id: str, days: int = CA_DAYS) -> None:
    """A new self-signed CA for the site (only for a first set-up: nodes trust this one)."""
    files.ca_cert.parent.mkdir(parents=True, exist_ok=True)
    _private_file(files.ca_key)
    _openssl("req", "-x509", "-new", *_CURVE, "-sha256", "-days", str(days),
             "-keyout", str(files.ca_key), "-out", str(files.ca_cert),
             "-subj", f"/O=Giliran/OU={site_id}/CN=Giliran site CA {site_id}",
             "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    log.info("made the site CA %s", files.ca_cert)


def make_server_cert(files: TlsFiles, hosts: Sequence[str], days: int = SERVER_DAYS) -> None:
    """A server certificate for the broker, naming every host nodes use to reach it, signed by the site CA."""
    if not hosts:
        raise TlsError("a server certificate needs at least one host name or IP address")
    with tempfile.TemporaryDirectory(prefix="giliran-tls-") as tmp:
        csr = Path(tmp) / "server.csr"
        ext = Path(tmp) / "server.ext"
        ext.write_text("basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\n"
                       f"subjectAltName={_subject_alt_names(hosts)}\n", encoding="utf-8")
        _private_file(files.key)
        _openssl("req", "-new", *_CURVE, "-keyout", str(files.key), "-out", str(csr),
                 "-subj", f"/O=Giliran/CN={hosts[0]}")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(files.ca_cert), "-CAkey", str(files.ca_key),
                 "-set_serial", f"0x{secrets.token_hex(16)}", "-sha256", "-days", str(days),
                 "-extfile", str(ext), "-out", str(files.cert))
    log.info("made the broker certificate %s for %s", files.cert, ", ".join(hosts))


def ensure_tls_files(directory: Path, site_id: str, hosts: Sequence[str], *, days: int = SERVER_DAYS) -> TlsFiles:
    """The site CA and a broker certificate for ``hosts`` in ``directory``, made only where needed."""
    files = TlsFiles.in_dir(directory)
    if not files.ca_cert.exists() or not files.ca_key.exists():
        if files.cert.exists():
            log.warning("%s has a server certificate but no CA: making a new CA; copy the new %s to every node",
                        directory, files.ca_cert.name)
        make_ca(files, site_id)
    problem = server_cert_problem(files, hosts)
    if problem is not None:
        log.info("issuing the broker certificate: %s", problem)
        make_server_cert(files, hosts, days)
    return files


def require_tls_files(directory: Path) -> TlsFiles:
    """The TLS files in ``directory``; TlsError naming the first missing one (the broker would not start)."""
    files = TlsFiles.in_dir(directory)
    for path in (files.ca_cert, files.cert, files.key):
        if not path.is_file():
            raise TlsError(f"{path} is missing; make it with `giliran tls init --out {directory} --host NAME`")
    return files
