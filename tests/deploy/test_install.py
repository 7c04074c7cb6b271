"""systemd/install.sh in a throwaway root: what it writes, and that running it again changes nothing.

With ``--root`` the installer writes everything under that folder and only
prints what it would do to the system (users, apt, systemctl, udev), and
``--no-venv --python`` uses this checkout's Python, so a run takes a second.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.deploy

ROOT_DIR = Path(__file__).resolve().parents[2]
INSTALL = ROOT_DIR / "systemd" / "install.sh"
SITE = ROOT_DIR / "examples" / "site.toml"
ALL_ROLES = "broker,kiosk,display:hall,display:entrance,counter:3"


def install(root: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """The installer into ``root``, on what looks like a fresh Pi to it: dpkg knows no package,
    so its plan asks apt-get for every package the roles need, whatever this machine has."""
    bare = root.parent / "fresh-dpkg"
    if not bare.exists():
        bare.mkdir()
        (bare / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
        (bare / "dpkg-query").chmod(0o755)
    done = subprocess.run(["bash", str(INSTALL), "--root", str(root), "--no-venv", "--python", sys.executable, *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT_DIR,
                          env={**os.environ, "PATH": f"{bare}:{os.environ['PATH']}"})
    if ok:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def tree(root: Path) -> dict[str, str]:
    """Every path under ``root`` → its kind, mode and content hash (or link target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            out[str(path.relative_to(root))] = f"link {path.readlink()}"
        elif stat.S_ISDIR(mode):
            out[str(path.relative_to(root))] = f"dir {oct(mode & 0o7777)}"
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(root))] = f"file {oct(mode & 0o7777)} {digest}"
    return out


@pytest.fixture
def bridge_file(tmp_path: Path) -> Path:
    path = tmp_path / "head-office.toml"
    path.write_text('host = "mqtt.head-office.example"\nusername = "site-jpn-putrajaya"\npassword = "s3cret"\n')
    return path


@pytest.fixture
def full_install(tmp_path: Path, bridge_file: Path) -> tuple[Path, list[str], subprocess.CompletedProcess[str]]:
    root = tmp_path / "root"
    args = ["--roles", ALL_ROLES, "--site", str(SITE), "--tls-host", "127.0.0.1", "--tls-host", "broker.local",
            "--bridge", str(bridge_file)]
    return root, args, install(root, *args)


def _packages_asked_for(done: subprocess.CompletedProcess[str]) -> list[str]:
    line = next(line for line in done.stdout.splitlines() if " apt-get install " in line)
    return line.split(" --no-install-recommends ", 1)[1].split()


def test_running_it_again_changes_nothing(full_install) -> None:
    root, args, _ = full_install
    first = tree(root)
    again = install(root, *args)
    assert tree(root) == first
    assert "would run: systemctl restart chrony.service" not in again.stdout.splitlines()   # its files unchanged
    install(root)                     # the upgrade form: options remembered in install.env
    assert tree(root) == first


def test_it_installs_units_site_credentials_and_broker_files(full_install) -> None:
    root, _, done = full_install
    etc = root / "etc" / "giliran"
    assert (etc / "site.toml").read_bytes() == SITE.read_bytes()
    for unit in ("giliran-kiosk.service", "giliran-display@.service", "giliran-counter@.service"):
        assert (root / "etc/systemd/system" / unit).read_bytes() == (ROOT_DIR / "systemd" / unit).read_bytes()
    assert (root / "etc/systemd/system/mosquitto.service.d/giliran.conf").exists()
    # This Pi's nodes get their credentials, readable by group giliran; the technician's stay root's.
    creds = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (etc / "credentials").iterdir()}
    assert creds == {"kiosk.toml": 0o640, "display-hall.toml": 0o640, "display-entrance.toml": 0o640,
                     "counter-3.toml": 0o640, "technician.toml": 0o600}
    assert (etc / "credentials/kiosk.toml").read_text() == (etc / "broker/credentials/kiosk.toml").read_text()
    conf = (etc / "broker/mosquitto.conf").read_text()
    # The paths the Pi will see, not the folder's: Mosquitto must start from this tree as installed.
    assert str(root) not in conf
    assert "password_file /etc/giliran/broker/passwd\nacl_file /etc/giliran/broker/acl\n" in conf
    assert "log_dest stderr" in conf and "persistence_location /var/lib/mosquitto/" in conf
    assert "listener 8883 0.0.0.0\ncafile /etc/giliran/tls/ca.crt" in conf and "connection head-office" in conf
    assert "keyfile /etc/giliran/tls/server.key" in conf
    assert stat.S_IMODE((etc / "tls/ca.key").stat().st_mode) == 0o600
    assert (etc / "display-entrance.env").read_text().endswith("CAGE_ARGS=-r\n")   # a portrait board
    assert (etc / "display-hall.env").read_text().endswith("CAGE_ARGS=\n")
    for lang in ("ms", "en"):                        # the PA's voice packs, in the site's languages
        assert (root / "var/lib/giliran/voices" / lang / "manifest.toml").exists()
    assert 'ENV{ID_USB_INTERFACES}=="*:0701??:*", GROUP="lp"' in (root / "etc/udev/rules.d/60-giliran-printer.rules"
                                                                  ).read_text()
    assert not (root / "etc/modprobe.d").exists()    # the example's printer is simulated, not USB
    cage = root / "opt/giliran/bin/giliran-cage"     # the display's supervisor under systemd
    assert cage.read_bytes() == (ROOT_DIR / "systemd/giliran-cage").read_bytes()
    assert stat.S_IMODE(cage.stat().st_mode) == 0o755
    plan = done.stdout.splitlines()
    # The plan names the system's paths, so it can be run as is on the installed system.
    assert not [line for line in plan if str(root) in line]
    assert ("would run: chown root:mosquitto /etc/giliran/broker /etc/giliran/broker/mosquitto.conf"
            " /etc/giliran/broker/passwd /etc/giliran/broker/acl") in plan
    assert ("would run: systemctl enable mosquitto.service giliran-kiosk.service giliran-display@hall.service"
            " giliran-display@entrance.service giliran-counter@3.service") in plan
    assert "would run: systemctl enable --now seatd.service" in plan
    # Debian's cage will not start without xwayland (not a dependency); pygame.mixer needs glib;
    # SDL's wayland driver always needs EGL, so Mesa's drivers too; chrony keeps the hall's time.
    assert {"cage", "xwayland", "seatd", "libglib2.0-0", "libegl1", "libgl1-mesa-dri", "libasound2", "espeak-ng",
            "mosquitto", "libusb-1.0-0", "chrony"} <= set(_packages_asked_for(done))
    # The kiosk Pi is the hall's time server, serving its own clock when no upstream answers.
    chrony = (root / "etc/chrony/conf.d/giliran.conf").read_text().splitlines()
    assert {"local stratum 8", "manual", "allow 10.0.0.0/8", "allow 172.16.0.0/12", "allow 192.168.0.0/16"
            } <= set(chrony)
    assert not (root / "etc/chrony/sources.d").exists()
    assert "would run: systemctl restart chrony.service" in plan
    try:
        pwd.getpwnam("giliran")
        user_missing = False
    except KeyError:
        user_missing = True
    assert any(line.startswith("would run: useradd --system --user-group") for line in plan) == user_missing


def test_an_upgrade_puts_back_units_and_keeps_local_edits(full_install) -> None:
    root, _, _ = full_install
    unit = root / "etc/systemd/system/giliran-kiosk.service"
    unit.write_text("[Service]\nExecStart=/old/giliran kiosk\n")
    env = root / "etc/giliran/display-entrance.env"
    env.write_text("CAGE_ARGS=-r -r -r\n")            # the screen hangs the other way round
    password = (root / "etc/giliran/credentials/kiosk.toml").read_text()
    install(root)
    assert unit.read_bytes() == (ROOT_DIR / "systemd/giliran-kiosk.service").read_bytes()
    assert env.read_text() == "CAGE_ARGS=-r -r -r\n"
    assert (root / "etc/giliran/credentials/kiosk.toml").read_text() == password


def test_a_dropped_role_is_disabled(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first = install(root, "--roles", "broker,counter:3", "--site", str(SITE))
    asked = _packages_asked_for(first)
    assert {"mosquitto", "chrony"} <= set(asked) and not {"cage", "xwayland", "libusb-1.0-0"} & set(asked)
    # No kiosk here, and the site's broker is 127.0.0.1: nothing to follow for the time, and it says so.
    assert "no time server for this Pi (broker.host is 127.0.0.1): pass --time-server ADDR" in first.stderr
    done = install(root, "--roles", "broker,counter:4")
    assert "would run: systemctl disable --now giliran-counter@3.service" in done.stdout.splitlines()
    assert "would run: systemctl enable mosquitto.service giliran-counter@4.service" in done.stdout.splitlines()


def test_a_usb_printer_gets_its_udev_rule_and_usblp_is_kept_away(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE.read_text().replace('connection = "sim"', 'connection = "usb"') +
                    "\n[printer.usb]\nvendor_id = 0x04b8\nproduct_id = 0x0e15\n")
    root = tmp_path / "root"
    done = install(root, "--roles", "broker,kiosk", "--site", str(site))
    rules = (root / "etc/udev/rules.d/60-giliran-printer.rules").read_text()
    assert 'ATTR{idVendor}=="04b8", ATTR{idProduct}=="0e15", GROUP="lp", MODE="0660"' in rules
    assert "blacklist usblp" in (root / "etc/modprobe.d/giliran-usblp.conf").read_text()
    assert "would run: modprobe -r usblp" in done.stdout


def test_a_node_pi_takes_its_credentials_from_the_broker_pi(tmp_path: Path) -> None:
    broker_pi = tmp_path / "broker-pi"
    install(broker_pi, "--roles", "broker", "--site", str(SITE))
    node_pi = tmp_path / "node-pi"
    refused = install(node_pi, "--roles", "counter:3", "--site", str(SITE), ok=False)
    assert refused.returncode != 0 and "no credentials for counter-3" in refused.stderr
    install(node_pi, "--roles", "counter:3", "--credentials", str(broker_pi / "etc/giliran/broker/credentials"))
    assert [p.name for p in (node_pi / "etc/giliran/credentials").iterdir()] == ["counter-3.toml"]
    assert not (node_pi / "etc/giliran/broker").exists()
    assert not (node_pi / "etc/systemd/system/mosquitto.service.d").exists()


@pytest.mark.parametrize(("roles", "message"), [
    ("kiosk,display:nowhere", "display 'nowhere' is not in the site file"),
    ("counter:99", "counter 99 is not in the site file"),
    ("printer", "unknown role 'printer'"),
])
def test_roles_the_site_does_not_have_are_refused(tmp_path: Path, roles: str, message: str) -> None:
    done = install(tmp_path / "root", "--roles", roles, "--site", str(SITE), ok=False)
    assert done.returncode != 0 and message in done.stderr


def test_other_pis_follow_the_kiosk_pi(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE.read_text().replace('host = "127.0.0.1"', 'host = "192.168.10.2"'))
    broker_pi = tmp_path / "broker-pi"
    install(broker_pi, "--roles", "broker", "--site", str(site))
    creds = str(broker_pi / "etc/giliran/broker/credentials")
    # By default the broker's address: the broker Pi is usually the kiosk Pi.
    node_pi = tmp_path / "node-pi"
    install(node_pi, "--roles", "counter:3", "--site", str(site), "--credentials", creds)
    sources = node_pi / "etc/chrony/sources.d/giliran.sources"
    assert sources.read_text().splitlines()[-1] == "server 192.168.10.2 iburst prefer"
    assert not (node_pi / "etc/chrony/conf.d").exists()  # a client serves nobody
    # A kiosk elsewhere: named once, remembered by the upgrade form, which changes nothing then.
    install(node_pi, "--time-server", "192.168.10.5")
    assert sources.read_text().splitlines()[-1] == "server 192.168.10.5 iburst prefer"
    again = install(node_pi)
    assert sources.read_text().splitlines()[-1] == "server 192.168.10.5 iburst prefer"
    assert "would run: systemctl restart chrony.service" not in again.stdout.splitlines()

