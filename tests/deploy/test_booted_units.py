"""The real units, installed by systemd/install.sh and booted by systemd in a container.

One hall on one machine: ``install.sh --root`` writes the units, the site file,
the broker files and the cage wrapper into a throwaway tree; the tree is booted
with systemd-nspawn over an overlay of this machine's root (see nspawn.py), and
the installer's own plan (``useradd``, ``chown``, ``systemctl enable/restart``:
the lines it prints with ``--root``) is run inside. Then, as systemd runs them:

- Mosquitto, the kiosk, counter 3 and the entrance board under cage reach
  ``active (running)``: READY=1 and watchdog pings from each node;
- ``kill -9`` of the board (and of the kiosk) is restarted within RESTART_BOUND_S;
- ``systemctl stop`` leaves every unit inactive, not failed (cage would abort);
- counter 2, whose GPIO library cannot start here (no Pi), fails with one line
  and the missing-dependency exit status, and is not restarted; a bad site file
  stops the board with status 2 through cage, and it is not restarted either.

What the container lacks, drop-ins stand in for, as the simulator does elsewhere:
``GPIOZERO_PIN_FACTORY=mock`` for the kiosk and counter 3 (no GPIO chip), and for
the board wlroots' headless backend with its pixman renderer (no screen, no GPU).
The venv is this machine's Debian Python with this checkout on its path (the
installer's venv build needs the network). Cost: about 30 s, one boot.
Run it alone with ``./dev test -m deploy``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from giliran.cli import EXIT_BAD_CONFIG, EXIT_MISSING_DEPENDENCY
from tests.deploy.nspawn import BootedTree, why_not_here

pytestmark = pytest.mark.deploy

ROOT_DIR = Path(__file__).resolve().parents[2]
INSTALL = ROOT_DIR / "systemd" / "install.sh"
SITE = ROOT_DIR / "examples" / "site.toml"
ROLES = "broker,kiosk,display:entrance,counter:3,counter:2"
RUNNING = ("mosquitto.service", "giliran-kiosk.service", "giliran-counter@3.service",
           "giliran-display@entrance.service")
NO_GPIO = "giliran-counter@2.service"
# RestartSec=3 in the units, plus a node's start-up to READY=1 (1-2 s here, more on a busy machine).
RESTART_BOUND_S = 15.0
BOARD = "^/opt/giliran/venv/bin/python3 /opt/giliran/venv/bin/giliran display"
KIOSK = "^/opt/giliran/venv/bin/python3 /opt/giliran/venv/bin/giliran kiosk"
# Not run in the container: packages and devices are the host's business, and seatd/chrony
# are not installed here (no seat in a container; chrony is tested as files in test_install.py).
NOT_IN_CONTAINER = ("apt-get ", "env DEBIAN_FRONTEND", "udevadm ", "modprobe ", "systemctl enable --now seatd",
                    "systemctl restart chrony")


def _skip_reason() -> str | None:
    reason = why_not_here()
    if reason:
        return reason
    for program in ("cage", "Xwayland"):
        if shutil.which(program) is None:
            return f"{program} is not installed (./dev setup installs cage and xwayland)"
    debian = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])"],
                            capture_output=True, text=True)
    if debian.stdout.strip() != str(sys.version_info[:2]):
        return (f"Debian's /usr/bin/python3 is {debian.stdout.strip() or 'missing'}, this venv is "
                f"{sys.version_info[:2]}: the container cannot reuse this venv's packages")
    return None


def _tree(tmp: Path) -> tuple[Path, list[str]]:
    """The installed tree plus the test's stand-ins, and the installer's plan for the system."""
    tree = tmp / "tree"
    done = subprocess.run(["bash", str(INSTALL), "--root", str(tree), "--no-venv", "--python", sys.executable,
                           "--roles", ROLES, "--site", str(SITE)],
                          capture_output=True, text=True, timeout=180, cwd=ROOT_DIR)
    assert done.returncode == 0, done.stderr[-3000:]
    plan = [line.removeprefix("would run: ") for line in done.stdout.splitlines() if line.startswith("would run: ")]
    units = tree / "etc/systemd/system"
    (units / "giliran-test.target").write_text(
        "[Unit]\nDescription=Giliran booted-units test: the base system, none of the host's services\n"
        "Requires=sysinit.target\nAfter=sysinit.target\n")
    mock_pins = "[Service]\nEnvironment=GPIOZERO_PIN_FACTORY=mock\n"
    for unit in ("giliran-kiosk.service", "giliran-counter@3.service"):
        (units / f"{unit}.d").mkdir()
        (units / f"{unit}.d/no-gpio-chip.conf").write_text(mock_pins)
    (units / "giliran-display@.service.d").mkdir()
    (units / "giliran-display@.service.d/no-screen.conf").write_text(
        "[Service]\nEnvironment=WLR_BACKENDS=headless WLR_RENDERER=pixman\n")
    venv = tree / "opt/giliran/venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site_packages = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (site_packages / "giliran-checkout.pth").write_text("/opt/giliran/src\n/opt/giliran/checkout-site-packages\n")
    (venv / "bin/giliran").write_text("#!/opt/giliran/venv/bin/python3\nimport sys\n\nfrom giliran.cli import main\n\n"
                                      "sys.exit(main())\n")
    (venv / "bin/giliran").chmod(0o755)
    return tree, plan


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BootedTree]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("booted")
    tree, plan = _tree(tmp)
    binds = {ROOT_DIR: "/opt/giliran/src", Path(sysconfig.get_paths()["purelib"]): "/opt/giliran/checkout-site-packages"}
    box = BootedTree(tree, tmp / "box", binds, "giliran-test.target", tmp / "console.log")
    try:
        for command in plan:
            if command.startswith(NOT_IN_CONTAINER):
                continue
            # Starting counter 2 fails (no GPIO here): `systemctl restart` says so and starts the rest.
            box.run(command, check=not command.startswith("systemctl restart"))
        yield box
    finally:
        box.close()


def test_the_plan_enables_and_starts_every_unit_of_the_roles(hall: BootedTree) -> None:
    for unit in (*RUNNING, NO_GPIO):
        assert hall.show(unit, "UnitFileState")["UnitFileState"] == "enabled", unit


def _pinged(hall: BootedTree, unit: str, timeout: float = 10.0) -> bool:
    """A WATCHDOG=1 arrived after READY=1: systemd stamps the watchdog at READY, then at every ping."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = hall.show(unit, "ActiveEnterTimestampMonotonic", "WatchdogTimestampMonotonic")
        if int(state["WatchdogTimestampMonotonic"]) > int(state["ActiveEnterTimestampMonotonic"]) > 0:
            return True
        time.sleep(0.2)
    return False


def test_every_node_reaches_active_running_with_ready_and_watchdog(hall: BootedTree) -> None:
    for unit in RUNNING:
        state = hall.show(unit, "ActiveState", "SubState", "Type", "StatusText", "WatchdogUSec", "NRestarts")
        assert (state["ActiveState"], state["SubState"], state["NRestarts"]) == ("active", "running", "0"), \
            f"{unit}: {state}\n{hall.journal(unit)[-2000:]}"
        assert state["Type"] == "notify"          # so "running" means READY=1 arrived
        if unit.startswith("giliran-"):
            assert state["StatusText"].endswith("of site jpn-putrajaya")   # the node's own STATUS=
            assert state["WatchdogUSec"] == "30s"
            assert _pinged(hall, unit), f"{unit}: no WATCHDOG=1 after READY=1"


def test_the_nodes_are_online_on_the_installed_broker(hall: BootedTree) -> None:
    """Mosquitto runs from the installed /etc/giliran/broker files, as user mosquitto, with the nodes' accounts."""
    tech = tomllib.loads(hall.run("cat /etc/giliran/credentials/technician.toml").stdout)
    out = hall.run(f"mosquitto_sub -h 127.0.0.1 -u {tech['username']} -P '{tech['password']}' -v -W 5 -C 3 "
                   "-t 'giliran/jpn-putrajaya/status/+'", check=False).stdout
    online = {line.split(" ", 1)[0].rsplit("/", 1)[1] for line in out.splitlines() if '"online"' in line}
    assert online == {"kiosk", "counter-3", "display-entrance"}, out
    assert hall.run("ps -o user= -C mosquitto").stdout.split() == ["mosquitto"]


def test_a_node_whose_gpio_library_cannot_start_fails_once_with_one_line(hall: BootedTree) -> None:
    state = hall.show(NO_GPIO, "ActiveState", "Result", "ExecMainStatus", "NRestarts")
    # "failed", not "activating (auto-restart)": RestartPreventExitStatus= stops the loop at once.
    assert state == {"ActiveState": "failed", "Result": "exit-code", "ExecMainStatus": str(EXIT_MISSING_DEPENDENCY),
                     "NRestarts": "0"}
    said = hall.journal(NO_GPIO, identifier="giliran")
    assert "Traceback" not in said
    errors = [line for line in said.splitlines() if line.startswith("giliran: ")]
    assert len(errors) == 1 and "GPIO pin factory 'lgpio' cannot start" in errors[0], said
    assert "GPIOZERO_PIN_FACTORY=mock" in errors[0]


def _pid(hall: BootedTree, pattern: str) -> str:
    return hall.run(f"pgrep -f '{pattern}'").stdout.strip()


def test_a_killed_board_and_kiosk_are_restarted_within_the_bound(hall: BootedTree) -> None:
    units = {"giliran-display@entrance.service": BOARD, "giliran-kiosk.service": KIOSK}
    before = {unit: _pid(hall, pattern) for unit, pattern in units.items()}
    hall.run("kill -9 " + " ".join(before.values()))
    killed = time.monotonic()
    back: dict[str, float] = {}
    while len(back) < len(units) and time.monotonic() - killed < RESTART_BOUND_S:
        for unit, pattern in units.items():
            state = hall.show(unit, "SubState", "NRestarts")
            if unit not in back and state == {"SubState": "running", "NRestarts": "1"}:
                assert _pid(hall, pattern) not in ("", before[unit])
                back[unit] = time.monotonic() - killed
        time.sleep(0.2)
    assert set(back) == set(units), f"not back within {RESTART_BOUND_S} s: {set(units) - set(back)}"
    print(f"back after kill -9 (READY=1 from the new process): {back}")
    board_said = hall.journal("giliran-display@entrance.service")
    assert "the board ended with status 137" in board_said          # SIGKILL, as cage's wrapper saw it


def test_stop_leaves_every_unit_inactive_not_failed(hall: BootedTree) -> None:
    hall.run("systemctl stop " + " ".join(RUNNING))
    for unit in RUNNING:
        assert hall.show(unit, "ActiveState", "Result") == {"ActiveState": "inactive", "Result": "success"}, \
            f"{unit}\n{hall.journal(unit)[-2000:]}"
    said = hall.journal("giliran-display@entrance.service")
    assert "ABRT" not in said and "cage ended" not in said, said   # the board ended first, then cage, cleanly


def test_a_board_with_a_bad_site_file_fails_through_cage_and_is_not_restarted(hall: BootedTree) -> None:
    hall.run("cp /etc/giliran/site.toml /root/site.toml && echo 'volume = \"loud\"' >> /etc/giliran/site.toml")
    try:
        hall.run("systemctl start giliran-display@entrance.service", check=False)
        state = hall.show("giliran-display@entrance.service", "ActiveState", "ExecMainStatus", "NRestarts")
        assert state == {"ActiveState": "failed", "ExecMainStatus": str(EXIT_BAD_CONFIG), "NRestarts": "0"}, state
    finally:
        hall.run("cp /root/site.toml /etc/giliran/site.toml")


def test_the_units_found_here_are_the_installed_ones(hall: BootedTree) -> None:
    """The canary for the tests above: systemd ran our files, not a stale copy or the host's."""
    for unit in ("giliran-kiosk.service", "giliran-display@.service", "giliran-counter@.service"):
        ours = (ROOT_DIR / "systemd" / unit).read_text()
        assert hall.run(f"cat /etc/systemd/system/{unit}").stdout == ours
    assert "ExecStart=/opt/giliran/bin/giliran-cage" in hall.run("systemctl cat giliran-display@entrance").stdout
    assert hall.run("readlink -f /proc/1/exe").stdout.strip() == "/usr/lib/systemd/systemd"
