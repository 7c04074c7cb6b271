"""The ``giliran`` command itself: what it imports, the dates it accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from giliran.cli import main

ROOT = Path(__file__).resolve().parents[2]
SITE = str(ROOT / "examples" / "site.toml")
#: Never needed to parse arguments, check a site file, send a counter command or print a report.
HEAVY = ("pygame", "gpiozero", "hardware_sim", "kiosk", "display.node", "display.board", "counter.node",
         "printer", "escpos")
RUN = """
import json, sys
from giliran.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("MODULES" + json.dumps(sorted(sys.modules)))
"""


def _modules(*argv: str) -> tuple[list[str], str]:
    env = {k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"}
    done = subprocess.run([sys.executable, "-c", RUN, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    head, _, modules = done.stdout.rpartition("MODULES")
    return json.loads(modules), head + done.stderr


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["config", "check", SITE],
    ["counter", "3", "next", "--site", SITE, "--credentials-dir", "/nonexistent"],
    ["report", "--site", SITE, "--ledger", "/nonexistent/ledger.sqlite"],
])
def test_light_commands_import_no_node_no_pygame_no_simulator(argv: list[str]) -> None:
    modules, output = _modules(*argv)
    needed = {"printer", "escpos"} if argv[0] == "config" else set()  # printer profiles are checked
    heavy = [m for m in modules if (m.split(".")[0] in HEAVY or m in HEAVY) and m.split(".")[0] not in needed]
    assert heavy == []
    assert "pygame" not in output.lower()  # no banner either
    # It was 499 for every command, --help included; python-escpos with Pillow is most of config's.
    assert len(modules) < (400 if needed else 250), len(modules)


def test_a_report_day_must_be_iso(capsys: pytest.CaptureFixture[str]) -> None:
    """24-11-2026 once matched no ticket and printed an empty report, as if nobody came."""
    with pytest.raises(SystemExit) as exited:
        main(["report", "--site", SITE, "--day", "24-11-2026"])
    assert exited.value.code == 2
    assert "'24-11-2026' is not a date as YYYY-MM-DD" in capsys.readouterr().err


def test_config_check_knows_the_printer_profiles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The kiosk refuses a profile python-escpos does not have; the check must say so first."""
    site = tmp_path / "site.toml"
    site.write_text(Path(SITE).read_text(encoding="utf-8").replace('profile = "TM-T20II"', 'profile = "TM-T99"'),
                    encoding="utf-8")
    assert main(["config", "check", str(site)]) == 2
    assert f"{site}: 1 problem(s)\n  - printer.profile: 'TM-T99' is not a python-escpos profile" in capsys.readouterr().err
