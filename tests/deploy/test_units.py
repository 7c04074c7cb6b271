"""The systemd units: what each node needs is there, and systemd itself accepts them.

`systemd-analyze verify` checks every key and that ExecStart's program exists,
so it runs on copies whose ExecStart points at a program present here (the Pi's
/opt/giliran venv and /usr/bin/cage are not). The exposure scores of
`systemd-analyze security --offline=yes` are held below a ceiling, so a change
that drops hardening shows up.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from giliran.cli import EXIT_BAD_CONFIG, EXIT_MISSING_DEPENDENCY

pytestmark = pytest.mark.deploy

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"
NODE_UNITS = ("giliran-kiosk.service", "giliran-display@.service", "giliran-counter@.service")
DROP_IN = SYSTEMD / "mosquitto.service.d" / "giliran.conf"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian: systemd)")

Unit = dict[str, dict[str, list[str]]]


def parse_unit(path: Path) -> Unit:
    """Sections → key → every value (systemd keys may repeat; an empty value resets a list)."""
    unit: Unit = defaultdict(lambda: defaultdict(list))
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        unit[section][key].append(value)
    return unit


def one(unit: Unit, key: str, section: str = "Service") -> str:
    values = unit[section][key]
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def words(unit: Unit, key: str, section: str = "Service") -> list[str]:
    return [w for value in unit[section][key] for w in value.split()]


@pytest.mark.parametrize(("name", "groups", "command"), [
    ("giliran-kiosk.service", ["gpio", "lp", "dialout"],
     "/opt/giliran/venv/bin/giliran kiosk --site /etc/giliran/site.toml"),
    ("giliran-display@.service", ["video", "render", "audio", "input"],
     "/opt/giliran/bin/giliran-cage /opt/giliran/venv/bin/giliran display --site /etc/giliran/site.toml --id %i"),
    ("giliran-counter@.service", ["gpio", "dialout"],
     "/opt/giliran/venv/bin/giliran counter-node --site /etc/giliran/site.toml --id %i"),
])
def test_each_node_runs_unprivileged_with_only_its_groups(name: str, groups: list[str], command: str) -> None:
    unit = parse_unit(SYSTEMD / name)
    assert one(unit, "ExecStart") == command
    assert one(unit, "User") == "giliran" and one(unit, "Group") == "giliran"
    assert words(unit, "SupplementaryGroups") == groups
    assert one(unit, "Type") == "notify" and one(unit, "WatchdogSec") == "30"
    assert one(unit, "Restart") == "on-failure"
    # What the command line returns for a bad site file and for a missing library or device.
    assert words(unit, "RestartPreventExitStatus") == [str(EXIT_BAD_CONFIG), str(EXIT_MISSING_DEPENDENCY)]
    assert one(unit, "WorkingDirectory") == "/var/lib/giliran" == one(unit, "ReadWritePaths")
    for key, value in [("ProtectSystem", "strict"), ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                       ("DevicePolicy", "closed"), ("CapabilityBoundingSet", "")]:
        assert one(unit, key) == value, key
    assert one(unit, "WantedBy", "Install") == "multi-user.target"


def test_gpio_nodes_use_lgpio_and_may_open_gpio_chips() -> None:
    for name in ("giliran-kiosk.service", "giliran-counter@.service"):
        unit = parse_unit(SYSTEMD / name)
        assert "GPIOZERO_PIN_FACTORY=lgpio" in words(unit, "Environment")
        assert "char-gpiochip rw" in unit["Service"]["DeviceAllow"]
    kiosk = parse_unit(SYSTEMD / "giliran-kiosk.service")
    assert {"char-usb_device rw", "char-usb rw", "char-ttyUSB rw"} <= set(kiosk["Service"]["DeviceAllow"])


def test_the_display_runs_under_cage_on_wayland() -> None:
    unit = parse_unit(SYSTEMD / "giliran-display@.service")
    env = words(unit, "Environment")
    assert {"SDL_VIDEODRIVER=wayland", "WLR_LIBINPUT_NO_DEVICES=1", "LIBSEAT_BACKEND=seatd",
            "XDG_RUNTIME_DIR=%t/giliran-display-%i"} <= set(env)
    assert one(unit, "RuntimeDirectory") == "giliran-display-%i"
    assert one(unit, "NotifyAccess") == "all"  # the board, cage's child, sends READY and WATCHDOG itself
    # giliran-cage alone gets SIGTERM and stops the board first: cage aborts on a SIGTERM of its own.
    assert one(unit, "KillMode") == "mixed"
    assert one(unit, "EnvironmentFile") == "-/etc/giliran/display-%i.env"   # CAGE_ARGS, read by giliran-cage
    # Mesa's EGL needs mincore(), which @system-service leaves out.
    assert unit["Service"]["SystemCallFilter"][:2] == ["@system-service", "mincore"]
    assert {"char-drm rw", "char-fb rw", "char-alsa rw"} <= set(unit["Service"]["DeviceAllow"])
    assert "seatd.service" in words(unit, "Wants", "Unit")


def test_the_mosquitto_drop_in_points_at_the_site_broker_files() -> None:
    unit = parse_unit(DROP_IN)
    assert unit["Service"]["ExecStart"] == ["", "/usr/sbin/mosquitto -c /etc/giliran/broker/mosquitto.conf"]


def _copies(tmp_path: Path) -> Path:
    """The units with every ExecStart pointing at a program present here, plus instances and the drop-in."""
    exe = shutil.which("true") or "/bin/true"
    for src in [*(SYSTEMD / n for n in NODE_UNITS), DROP_IN]:
        dest = tmp_path / src.relative_to(SYSTEMD)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(re.sub(r"(?m)^ExecStart=.+$", f"ExecStart={exe}", src.read_text()))
    (tmp_path / "giliran-display@hall.service").symlink_to("giliran-display@.service")
    (tmp_path / "giliran-counter@3.service").symlink_to("giliran-counter@.service")
    # Debian's mosquitto.service, which the drop-in amends.
    (tmp_path / "mosquitto.service").write_text(
        "[Unit]\nDescription=Mosquitto MQTT Broker\n[Service]\nType=notify\nNotifyAccess=main\n"
        f"ExecStart={exe}\nExecReload=/bin/kill -HUP $MAINPID\nRestart=on-failure\n"
        "[Install]\nWantedBy=multi-user.target\n")
    return tmp_path


UNITS_TO_CHECK = ("giliran-kiosk.service", "giliran-display@hall.service", "giliran-counter@3.service",
                  "mosquitto.service")


def _verify(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ANALYZE or "", "verify", *(f"./{u}" for u in UNITS_TO_CHECK)], cwd=directory,
                          capture_output=True, text=True, timeout=60)


@needs_analyze
def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    done = _verify(_copies(tmp_path))
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@needs_analyze
def test_verify_really_reads_the_drop_in(tmp_path: Path) -> None:
    """A canary: a bad key in the copied drop-in must be reported, or the test above proves nothing."""
    copies = _copies(tmp_path)
    with (copies / "mosquitto.service.d" / "giliran.conf").open("a") as f:
        f.write("NoSuchKey=1\n")
    assert "Unknown key 'NoSuchKey'" in _verify(copies).stderr


@needs_analyze
@pytest.mark.parametrize(("unit", "ceiling"), [
    # Measured with systemd 252 (Debian 12): kiosk 1.5, display 1.8, counter 1.5; Mosquitto 9.6 → 6.7 with the drop-in.
    ("giliran-kiosk.service", 2.0), ("giliran-display@hall.service", 2.5), ("giliran-counter@3.service", 2.0),
    ("mosquitto.service", 7.0),
])
def test_exposure_stays_low(tmp_path: Path, unit: str, ceiling: float) -> None:
    done = subprocess.run([ANALYZE or "", "security", "--offline=yes", f"./{unit}"], cwd=_copies(tmp_path),
                          capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert found, done.stdout[-500:] + done.stderr
    assert float(found.group(1)) <= ceiling
