"""The real node processes, as systemd runs them: READY=1, retained status online, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from giliran.cli import EXIT_BAD_CONFIG, EXIT_MISSING_DEPENDENCY
from giliran.protocol import NodeStatus, decode

pytestmark = pytest.mark.deploy


@pytest.mark.parametrize(
    ("node_id", "args"),
    [
        ("kiosk", ["kiosk"]),
        ("counter-2", ["counter-node", "--id", "2"]),
        ("display-hall", ["display", "--id", "hall"]),
    ],
)
def test_a_node_process_starts_reports_and_stops(site_file: Path, tmp_path: Path, voices_dir: Path, connect,  # type: ignore[no-untyped-def]
                                                  recorder, node_id: str, args: list[str]) -> None:
    tech = connect("technician", "technician")
    statuses = recorder()
    tech.subscribe(tech.topics.status(node_id), statuses)
    notify_path = tmp_path / "notify"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    notify.settimeout(20)
    env = {**{k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"},
           "NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "2000000",
           "GPIOZERO_PIN_FACTORY": "mock", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    extra = ["--voices", str(voices_dir)] if args[0] == "display" else []
    proc = subprocess.Popen([sys.executable, "-m", "giliran", "-v", *args, "--site", str(site_file), *extra],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        messages = []
        while not any("READY=1" in m for m in messages):
            messages.append(notify.recv(4096).decode())
        while not any("WATCHDOG=1" in m for m in messages):  # the main loop feeds the watchdog
            messages.append(notify.recv(4096).decode())
        statuses.wait_for(lambda m: decode(m.payload, NodeStatus).state == "online", timeout=10)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "pygame" not in out  # no banner in the journal
        statuses.wait_for(lambda m: decode(m.payload, NodeStatus).state == "offline", timeout=10)
        # The node's own log reaches the journal, and -v adds debug lines (python-escpos's
        # logging.basicConfig() at import once silenced both).
        assert f"INFO giliran.mqtt: {node_id}: connected to the broker" in err
        assert f"DEBUG giliran.mqtt: {node_id}: subscribed to" in err
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        notify.close()


def _on_a_pi() -> bool:
    model = Path("/proc/device-tree/model")
    return model.exists() and "Raspberry Pi" in model.read_text(errors="replace")


@pytest.mark.skipif(_on_a_pi(), reason="on a Raspberry Pi lgpio works: nothing is missing")
@pytest.mark.parametrize("args", [["kiosk"], ["counter-node", "--id", "2"]])
def test_a_gpio_node_off_a_pi_says_why_in_one_line_and_is_not_restarted(site_file: Path, tmp_path: Path,
                                                                 args: list[str]) -> None:
    """What its unit runs (GPIOZERO_PIN_FACTORY=lgpio) on a machine with no Pi GPIO: no traceback, status 3,
    which the units list in RestartPreventExitStatus so systemd does not restart it in a loop."""
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "lgpio", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    done = subprocess.run([sys.executable, "-m", "giliran", *args, "--site", str(site_file)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_MISSING_DEPENDENCY, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("giliran: ")]
    assert len(errors) == 1 and errors == done.stderr.splitlines()[-1:], done.stderr
    assert errors[0].startswith("giliran: GPIO pin factory 'lgpio' cannot start on this machine (")
    assert "GPIOZERO_PIN_FACTORY=mock" in errors[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["display", "--id", "nowhere"], "giliran: site jpn-putrajaya has no display 'nowhere' (displays: "),
        (["counter-node", "--id", "99"], "giliran: site jpn-putrajaya has no counter 99 (counters: "),
    ],
)
def test_a_node_id_the_site_does_not_have_is_a_config_error_not_a_restart_loop(site_file: Path, tmp_path: Path,
                                                                               args: list[str], message: str) -> None:
    """A unit started as display 'nowhere' or counter 99 cannot be mended by a restart: one line, status 2,
    which the units list in RestartPreventExitStatus."""
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run([sys.executable, "-m", "giliran", *args, "--site", str(site_file)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_BAD_CONFIG, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("giliran: ")]
    assert len(errors) == 1 and errors == done.stderr.splitlines()[-1:], done.stderr
    assert errors[0].startswith(message), errors[0]


def test_a_board_that_cannot_open_its_screen_says_why_in_one_line(site_file: Path, tmp_path: Path) -> None:
    """No compositor yet, or Mesa's EGL refused: one line naming the driver (systemd retries), no traceback."""
    env = {**os.environ, "SDL_VIDEODRIVER": "no-such-driver", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run([sys.executable, "-m", "giliran", "display", "--id", "hall", "--site", str(site_file)],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        "giliran: board hall cannot open its screen (video driver no-such-driver): "), done.stderr


def test_a_usb_printer_with_no_usb_library_stops_the_kiosk_in_one_line(site_file: Path, tmp_path: Path) -> None:
    """pyusb without libusb-1.0 raised NoBackendError (a traceback) at every printer poll."""
    import ctypes.util

    from giliran.cli import EXIT_MISSING_DEPENDENCY

    if ctypes.util.find_library("usb-1.0"):
        pytest.skip("libusb-1.0 is installed here, so pyusb has its backend")
    site_file.write_text(site_file.read_text(encoding="utf-8").replace(
        'connection = "sim"', 'connection = "usb"\nusb = { vendor_id = 0x04b8, product_id = 0x0e15 }'), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "giliran", "kiosk", "--site", str(site_file)],
                          env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if " INFO " not in line]
    assert done.returncode == EXIT_MISSING_DEPENDENCY, done.stderr
    assert lines == ["giliran: printer usb 04b8:0e15: pyusb finds no USB library; install Debian's libusb-1.0-0"]
