"""docs/COUNTER.md against the code: the wiring table and the board's texts cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from counter import screen
from counter.serial_display import Line
from giliran.config import SiteConfig

DOC = (Path(__file__).resolve().parents[2] / "docs" / "COUNTER.md").read_text(encoding="utf-8")


def test_the_wiring_table_matches_the_example_site_and_the_header(site: SiteConfig) -> None:
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|]*(?:\\\|[^|]*)? \| (GPIO\d+ \| \d+) \|$", DOC, re.MULTILINE))
    counter = site.counter(1)
    factory = MockFactory()
    try:
        expected = {key: f"GPIO{pin} | {next(factory.board_info.find_pin(f'GPIO{pin}'))[1].number}"
                    for key, pin in {**counter.keypad.pins(), **counter.feedback.pins()}.items()}
    finally:
        factory.close()
    assert rows == expected


def test_every_status_text_on_the_board_is_documented() -> None:
    lines = [value for value in vars(screen).values() if isinstance(value, Line)]
    lines += list(screen.ERROR_LINES.values()) + [screen.error_line("no_reply"), screen.transfer_line("B", "birth")]
    for line in lines:
        if line.number:
            assert f"| `{line.number}` | {line.text} |" in DOC, line
