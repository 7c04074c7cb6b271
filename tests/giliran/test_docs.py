"""The docs a user reads: self-contained, and every `giliran` command they show is one the CLI accepts."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from giliran.broker import write_broker_files
from giliran.cli import build_parser
from giliran.config import SiteConfig

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Pointers to the founders' notes outside the repository (spelt in two parts so this file does not match itself).
OUTSIDE = ["PLATFORM" + "-NOTES", "../" + "shared", "/work/" + "shared"]
COMMAND = re.compile(r"^(?:sudo )?(?:[A-Z_]+=\S+ )*(?:\S*/)?giliran (.*)$")


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_nothing_in_the_repository_points_outside_it() -> None:
    found = []
    for path in _tracked_files():
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [f"{path.relative_to(ROOT)}: {word}" for word in OUTSIDE if word in text]
    assert found == []


def test_the_generated_broker_config_points_nowhere_outside(site: SiteConfig, tmp_path: Path) -> None:
    text = write_broker_files(site, tmp_path, log_dest="stderr").config.read_text()
    assert not [word for word in OUTSIDE if word in text]


def _doc_commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
            for line in block.splitlines():
                line = line.split(" #")[0].strip()
                match = COMMAND.match(line)
                if match and not re.search(r"\[|…|\.\.\.|\bN\b|\$\(", match.group(1)):  # synopses, not commands
                    found.append((doc.name, match.group(1)))
    return found


@pytest.mark.parametrize(("doc", "command"), _doc_commands())
def test_every_command_in_the_docs_parses(doc: str, command: str) -> None:
    try:
        build_parser().parse_args(shlex.split(command))
    except SystemExit as exc:
        assert not exc.code, f"{doc}: `giliran {command}` is refused by the CLI"
