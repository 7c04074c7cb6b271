"""Bad-input fixtures: a broker per test, a watch on node handlers, and the tally printed at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from giliran.config import SiteConfig
from hardware_sim.broker import LocalBroker
from tests.badinput.support import TALLY, HandlerFailures


@pytest.fixture
def broker(site: SiteConfig, tmp_path: Path) -> Iterator[LocalBroker]:
    """A Mosquitto per test: MqttNode keeps an hour-long session per client id, so a node id used again on a
    shared broker would be sent the last test's queued messages."""
    with LocalBroker(site, tmp_path / "broker") as local:
        yield local


@pytest.fixture
def no_handler_failures() -> Iterator[None]:
    """Fails the test (at teardown) if a node's handler raised while it ran: MqttNode logs that and carries on.
    A fixture that runs a node on the broker lists it last, so the watch spans the node from start to close."""
    with HandlerFailures.watching() as watcher:
        yield
    assert watcher.failures == [], watcher.failures


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line with the counts, so a CI log shows how much bad input the nodes took."""
    if TALLY.total():
        terminalreporter.write_sep("-", TALLY.summary())
        for target, n in sorted(TALLY.cases.items()):
            terminalreporter.write_line(f"  {target}: {n:,}")
