"""docs/PROTOCOL.md and docs/schemas/ are generated from the code and their examples really work."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from giliran import protocol
from giliran.protocol_docs import EXAMPLES, SITE, protocol_markdown, schemas

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_committed_docs_match_the_code() -> None:
    assert (DOCS / "PROTOCOL.md").read_text(encoding="utf-8") == protocol_markdown(), \
        "docs/PROTOCOL.md is stale: run `giliran protocol docs`"
    for name, text in schemas().items():
        assert (DOCS / "schemas" / f"{name}.json").read_text(encoding="utf-8") == text, f"schemas/{name}.json is stale"


def test_every_topic_has_a_documented_example_that_validates() -> None:
    text = protocol_markdown()
    for pattern, kind, _ in protocol.CATALOGUE:
        assert f"### `{pattern}`" in text
        protocol.decode(protocol.encode(EXAMPLES[pattern]), kind)


def test_the_documented_mosquitto_rr_line_calls_a_number(kiosk_with_ticket, broker) -> None:  # type: ignore[no-untyped-def]
    block = re.search(r"(mosquitto_rr .*?)\n```", protocol_markdown(), re.S)
    assert block is not None
    line = block.group(1).replace(SITE, broker.site.site.id) + " -W 20"  # generous: CI machines are shared
    env = {"PATH": os.environ["PATH"], "HOST": "127.0.0.1", "PORT": str(broker.port),
           "PASS": broker.credentials("technician").password}
    run = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30, env=env)  # as typed
    assert run.returncode == 0, run.stderr
    reply = json.loads(run.stdout)
    assert reply["ok"] and reply["ticket"]["number"] == "A001"


@pytest.fixture
def kiosk_with_ticket(kiosk):  # type: ignore[no-untyped-def]
    kiosk.ledger.confirm(kiosk.ledger.reserve("mykad").id)
    return kiosk
