"""`giliran broker run` started by root: Mosquitto drops to user mosquitto and must still read its files."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware_sim.mosquitto_process import free_port, wait_listening

ROOT_DIR = Path(__file__).resolve().parents[2]
SITE = ROOT_DIR / "examples" / "site.toml"


def _mosquitto_user() -> bool:
    try:
        pwd.getpwnam("mosquitto")
        return True
    except KeyError:
        return False


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not _mosquitto_user(),
                                reason="needs root and Debian's mosquitto user (CI runs as root)")


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder user mosquitto may enter (pytest's own tmp folders are root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="giliran-broker-run-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _broker_run(directory: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "giliran", "broker", "run", "--site", str(SITE),
                             "--dir", str(directory), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1"})


def _publish(port: int, username: str, password: str) -> int:
    return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-u", username, "-P", password,
                           "-q", "1", "-t", "giliran/jpn-putrajaya/notice", "-m", "{}"],
                          capture_output=True, timeout=20).returncode


def test_root_runs_the_broker_with_files_mosquitto_can_read(open_folder: Path) -> None:
    port = free_port()
    broker = _broker_run(open_folder / "broker", port)
    try:
        assert wait_listening(port, time.monotonic() + 30), broker.communicate(timeout=5)[0]
        tech = tomllib.loads((open_folder / "broker/credentials/technician.toml").read_text())
        assert _publish(port, tech["username"], tech["password"]) == 0
        assert _publish(port, tech["username"], "wrong") != 0        # the accounts are really checked
        assert pwd.getpwuid((open_folder / "broker/data").stat().st_uid).pw_name == "mosquitto"
        assert "user root" not in (open_folder / "broker/mosquitto.conf").read_text()
    finally:
        broker.terminate()
        broker.communicate(timeout=10)


def test_a_folder_mosquitto_cannot_enter_is_named_in_one_line(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)               # (pytest's own tmp folders are 0700 too)
    done = subprocess.run([sys.executable, "-m", "giliran", "broker", "run", "--site", str(SITE),
                           "--dir", str(closed / "broker"), "--port", str(free_port())],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "giliran: Mosquitto runs as user 'mosquitto', which cannot enter /" in done.stderr
    assert f"to read {closed / 'broker'}: use a --dir it can reach" in done.stderr
