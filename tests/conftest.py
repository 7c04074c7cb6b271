"""Shared fixtures: the example site, an injected clock, and a real Mosquitto per test module."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# ./dev mutate runs the tests with --hypothesis-profile=mutate: no example database, so
# an example that killed one mutant is not replayed against the next (repeatable scores).
settings.register_profile("mutate", database=None)

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from giliran.config import SiteConfig, load_site  # noqa: E402
from hardware_sim.broker import LocalBroker  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = ROOT / "examples" / "site.toml"


class FakeClock:
    """A clock the test moves by hand; ``clock()`` returns epoch seconds."""

    def __init__(self, start: dt.datetime) -> None:
        self.t = start.timestamp()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def set(self, when: dt.datetime) -> None:
        self.t = when.timestamp()


@pytest.fixture(scope="session")
def site() -> SiteConfig:
    return load_site(EXAMPLE_SITE)


@pytest.fixture
def clock(site: SiteConfig) -> FakeClock:
    """Tuesday 24 Nov 2026, 09:00 at the site: the hall is open."""
    return FakeClock(dt.datetime(2026, 11, 24, 9, 0, tzinfo=site.site.zone))


@pytest.fixture(scope="session")
def voices_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default ms, en and id packs (digit by digit), in ``<dir>/<lang>``, built once with espeak-ng."""
    from display.voices_build import build_voice_pack

    root = tmp_path_factory.mktemp("voices")
    for lang in ("ms", "en", "id"):
        build_voice_pack(lang, root / lang)
    return root


@pytest.fixture(scope="module")
def broker(site: SiteConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A real Mosquitto from broker_config/ on a free loopback port, with the site's accounts."""
    local = LocalBroker(site, tmp_path_factory.mktemp("broker"))
    local.start()
    try:
        yield local
    finally:
        local.stop()


class Recorder:
    """Collects messages an MqttNode receives, and waits for them without sleeping blindly."""

    def __init__(self) -> None:
        import threading

        self.messages: list = []
        self._cond = threading.Condition()

    def __call__(self, msg) -> None:  # type: ignore[no-untyped-def]
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 5.0):  # type: ignore[no-untyped-def]
        """The first message matching ``predicate``; AssertionError after ``timeout``."""
        with self._cond:
            found = None

            def match() -> bool:
                nonlocal found
                found = next((m for m in self.messages if predicate(m)), None)
                return found is not None

            if not self._cond.wait_for(match, timeout):
                raise AssertionError(f"no matching message in {timeout} s; got {[m.topic for m in self.messages]}")
            return found


@pytest.fixture
def site_file(broker: LocalBroker, tmp_path: Path) -> Path:
    """The example site file pointed at the test broker, for node processes (``--site``)."""
    return broker.write_site_file(EXAMPLE_SITE, tmp_path / "site.toml", tmp_path / "ledger.sqlite")


@pytest.fixture
def connect(broker: LocalBroker) -> Iterator:  # type: ignore[type-arg]
    """``connect(node_id, role)`` → a started, connected MqttNode with that node's credentials."""
    from giliran.mqtt import MqttNode

    nodes: list[MqttNode] = []

    def make(node_id: str, role: str, credentials=None, wait: bool = True) -> MqttNode:  # type: ignore[no-untyped-def]
        creds = credentials if credentials is not None else broker.credentials(node_id)
        node = MqttNode(broker.site, node_id, role, creds)  # type: ignore[arg-type]
        node.start()
        nodes.append(node)
        if wait:
            node.wait_connected(5)
        return node

    try:
        yield make
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture
def recorder() -> type[Recorder]:
    """The Recorder class, for tests that collect MQTT messages."""
    return Recorder


@pytest.fixture
def kiosk(broker: LocalBroker, tmp_path: Path, clock: FakeClock, connect):  # type: ignore[no-untyped-def]
    """The kiosk's ledger served over the test broker (no buttons or printer): a LedgerService."""
    from giliran.ledger import Ledger
    from kiosk.service import LedgerService

    ledger = Ledger(tmp_path / "ledger.sqlite", broker.site, clock)
    service = LedgerService(ledger, connect("kiosk", "kiosk"))
    try:
        yield service
    finally:
        service.close()
        # The broker lives for the whole module: leave no retained board for the next test.
        service.mqtt.publish(service.mqtt.topics.board, b"", retain=True).wait(5)
        ledger.close()
