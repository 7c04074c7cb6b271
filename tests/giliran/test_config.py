"""The site file: the example passes; each kind of bad input stops with a message naming the key."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from giliran.config import Hours, load_site, parse_site
from giliran.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "site.toml").read_text(encoding="utf-8")


def test_example_site_is_a_realistic_hall() -> None:
    site = parse_site(EXAMPLE)
    assert len(site.categories) >= 5
    assert len(site.counters) >= 6
    assert len(site.displays) >= 2
    assert any(c.weight > 1 and "OKU" in c.name["ms"] for c in site.categories), "a priority category"
    assert sum(len(c.categories) > 1 for c in site.counters) >= 3, "counters serving several services"


BAD_INPUTS = [
    ("not toml", "[site", "not valid TOML"),
    ("unknown key", EXAMPLE.replace('weight = 2 ', 'wieght = 2 '), "categories[0]: Object contains unknown field `wieght`"),
    ("wrong type", EXAMPLE.replace("quota = 400", 'quota = "lots"'), "categories[1].quota: Expected `int | null`, got `str`"),
    ("prefix not a letter", EXAMPLE.replace('prefix = "A"', 'prefix = "a1"'), "categories[1]: prefix 'a1' must be one capital letter"),
    ("duplicate prefix", EXAMPLE.replace('prefix = "K"', 'prefix = "A"'), "categories[5].prefix: 'A' is already used by categories[1]"),
    ("unknown category at a counter", EXAMPLE.replace('categories = ["mykad"]', 'categories = ["passport"]'),
     "counters[1].categories[0]: no category has id 'passport'"),
    ("missing language", EXAMPLE.replace('name = { ms = "MyKad", en = "Identity card (MyKad)" }', 'name = { ms = "MyKad" }'),
     "categories[1].name: no text for language 'en'"),
    ("bad time", EXAMPLE.replace('open = "08:00"', 'open = "8am"', 1), "hours: '8am' is not a time of day"),
    ("bad timezone", EXAMPLE.replace("Asia/Kuala_Lumpur", "Asia/Kuala_Lumpor"), "site: timezone 'Asia/Kuala_Lumpor' is not a known"),
    ("pin used twice", EXAMPLE.replace("lamp_pin = 27", "lamp_pin = 5"), "categories[1].lamp_pin: GPIO5 is already used by categories[0].button_pin"),
    ("pin off the header", EXAMPLE.replace("button_pin = 13", "button_pin = 40"), "categories[2].button_pin: GPIO40 does not exist"),
    ("display zone names a missing counter", EXAMPLE.replace("counters = [4, 5, 6]", "counters = [4, 5, 9]"),
     "displays[2].counters[2]: no counter has id 9"),
    ("printer connection without its table", EXAMPLE.replace('connection = "sim"', 'connection = "usb"'),
     "printer: connection is 'usb' but there is no [printer.usb] table"),
    ("printer connection not named", EXAMPLE.replace('connection = "sim"  ', '# connection = "sim"'),
     'printer.connection: not set; name how the ticket printer is connected'),
    ("no printer table", re.sub(r"\[printer\]\n.*?(?=\n\[\[displays\]\])", "", EXAMPLE, flags=re.S),
     'printer.connection: not set; name how the ticket printer is connected: "usb", "serial", "network" or "file"'),
    ("paper width", EXAMPLE.replace("paper_mm = 80", "paper_mm = 76"), "printer.paper_mm: Invalid enum value 76"),
    ("two PAs for one zone", EXAMPLE.replace('theme = "high-contrast"', 'theme = "high-contrast"\npa = true'),
     "displays[1].pa: display 'hall' already announces counters"),
    ("counter id twice", EXAMPLE.replace("id = 6\n", "id = 5\n"), "counters[5].id: counter 5 is defined twice"),
    ("missing required key", EXAMPLE.replace('id = "jpn-putrajaya"\n', ""), "site: Object missing required field `id`"),
    ("site id not a topic level", EXAMPLE.replace('id = "jpn-putrajaya"', 'id = "jpn/putrajaya"'), "site: id 'jpn/putrajaya' must be"),
]


@pytest.mark.parametrize(("label", "text", "expected"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_site_file_names_the_key_and_the_problem(label: str, text: str, expected: str) -> None:
    assert text != EXAMPLE or label == "not toml"
    with pytest.raises(ConfigError) as info:
        parse_site(text, "site.toml")
    assert expected in str(info.value), str(info.value)


def test_all_cross_reference_problems_are_reported_at_once() -> None:
    text = EXAMPLE.replace('categories = ["mykad"]', 'categories = ["passport"]').replace("lamp_pin = 27", "lamp_pin = 5")
    with pytest.raises(ConfigError) as info:
        parse_site(text)
    assert len(info.value.problems) == 2


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_site(tmp_path / "missing.toml")


def test_config_check_command_exits_2_with_the_message(tmp_path: Path) -> None:
    bad = tmp_path / "site.toml"
    bad.write_text(EXAMPLE.replace('prefix = "K"', 'prefix = "A"'), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "giliran", "config", "check", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "categories[5].prefix: 'A' is already used" in run.stderr
    good = subprocess.run([sys.executable, "-m", "giliran", "config", "check", str(ROOT / "examples" / "site.toml")],
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert "jpn-putrajaya" in good.stdout


@pytest.mark.parametrize(
    ("hours", "when", "is_open"),
    [
        (Hours(open="08:00", close="17:00"), dt.datetime(2026, 11, 24, 8, 0), True),
        (Hours(open="08:00", close="17:00"), dt.datetime(2026, 11, 24, 17, 0), False),
        (Hours(open="08:00", close="17:00"), dt.datetime(2026, 11, 29, 10, 0), False),  # Sunday
        (Hours(open="20:00", close="02:00", days=["fri"]), dt.datetime(2026, 11, 28, 1, 0), True),  # Sat 01:00
        (Hours(open="20:00", close="02:00", days=["fri"]), dt.datetime(2026, 11, 27, 1, 0), False),  # Fri 01:00
    ],
)
def test_opening_hours(hours: Hours, when: dt.datetime, is_open: bool) -> None:
    assert hours.is_open(when) is is_open


def test_every_config_key_is_documented() -> None:
    import msgspec

    from giliran import config

    doc = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    structs = [config.Site, config.Hours, config.Calling, config.Category, config.Counter, config.Printer,
               config.Display, config.Kiosk, config.Broker]
    missing = [f"{s.__name__}.{f.name}" for s in structs for f in msgspec.structs.fields(s) if f"`{f.name}`" not in doc]
    assert missing == [], f"keys missing from docs/CONFIG.md: {missing}"
