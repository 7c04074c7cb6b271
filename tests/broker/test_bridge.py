"""The head-office bridge with two real Mosquittos: the site's events go out, nothing comes in."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from giliran.broker import load_bridge
from giliran.config import SiteConfig
from giliran.errors import ConfigError
from giliran.mqtt import MqttNode
from hardware_sim.head_office import HEAD_OFFICE_USER, HeadOfficeBroker
from hardware_sim.outward_broker import OutwardBroker


class HeadOfficeClient:
    """A plain paho client on the head-office broker that may read and write everything there."""

    def __init__(self, ho: HeadOfficeBroker) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="ho-watcher", protocol=paho.MQTTv5)
        self.client.username_pw_set(*ho.account(HEAD_OFFICE_USER))
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect("127.0.0.1", ho.port, keepalive=10)
        self.client.loop_start()
        self.client.subscribe("giliran/#", qos=1)
        assert self._subscribed.wait(5)

    def _on_message(self, _client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, topic: str, timeout: float = 10.0) -> paho.MQTTMessage:
        with self._cond:
            if not self._cond.wait_for(lambda: any(m.topic == topic for m in self.messages), timeout):
                raise AssertionError(f"{topic} did not reach head office; got {[m.topic for m in self.messages]}")
            return next(m for m in self.messages if m.topic == topic)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def pair(site: SiteConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HeadOfficeBroker, OutwardBroker]]:
    # A head office whose ACL would let the bridge read anything: only the site's config keeps it out.
    with HeadOfficeBroker(tmp_path_factory.mktemp("head-office"), sites=(site.site.id,), bridge_may_read=True) as ho:
        with OutwardBroker(site, tmp_path_factory.mktemp("site-broker"), bridge=ho.bridge_for(site.site.id)) as sb:
            yield ho, sb


@pytest.fixture
def head_office(pair: tuple[HeadOfficeBroker, OutwardBroker]) -> Iterator[HeadOfficeClient]:
    client = HeadOfficeClient(pair[0])
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def technician(pair: tuple[HeadOfficeBroker, OutwardBroker], recorder) -> Iterator[tuple[MqttNode, object]]:
    """The site's technician account, which reads the site's whole tree, with what it received."""
    sb = pair[1]
    node = MqttNode(sb.site, "technician", "technician", sb.credentials("technician"))
    got = recorder()
    node.subscribe(f"{node.topics.root}/#", got)
    node.start()
    try:
        node.wait_connected(5)
        got.wait_for(lambda m: m.topic == f"{node.topics.root}/bridge/head-office" and m.payload == b"1", 10)
        yield node, got
    finally:
        node.stop()


def test_the_sites_events_status_and_board_reach_head_office(pair, head_office: HeadOfficeClient, technician) -> None:
    sb = pair[1]
    kiosk = MqttNode(sb.site, "kiosk", "kiosk", sb.credentials("kiosk"))
    try:
        kiosk.start()
        kiosk.wait_connected(5)
        call = b'{"v":1,"number":"A001","counter":3}'
        kiosk.publish(kiosk.topics.event("call"), call).wait(5)
        kiosk.publish(kiosk.topics.board, b'{"v":1,"board":true}', retain=True).wait(5)
        assert head_office.wait_for(kiosk.topics.event("call")).payload == call
        assert head_office.wait_for(kiosk.topics.board).payload == b'{"v":1,"board":true}'
        assert b'"online"' in head_office.wait_for(kiosk.topics.status("kiosk")).payload
    finally:
        kiosk.stop()


def test_nothing_published_at_head_office_reaches_the_site(pair, head_office: HeadOfficeClient, technician) -> None:
    sb = pair[1]
    node, got = technician
    t = node.topics
    head_office.publish(t.counter_cmd(3), b'{"v":1,"action":"next"}')     # a command: must never arrive
    head_office.publish(t.notice, b'{"v":1,"text":"from head office"}')
    head_office.publish(t.event("call"), b'{"v":1,"forged":true}')         # even on a topic that goes out
    # A marker sent afterwards from the site to head office: once it is there, the bridge
    # has been up all along, and anything it would carry in would have had its chance.
    kiosk = MqttNode(sb.site, "kiosk", "kiosk", sb.credentials("kiosk"))
    try:
        kiosk.start()
        kiosk.wait_connected(5)
        kiosk.publish(t.event("ticket"), b'{"v":1,"marker":true}').wait(5)
        head_office.wait_for(t.event("ticket"))
        time.sleep(0.3)
    finally:
        kiosk.stop()
    leaked = [m.topic for m in got.messages if m.topic in (t.counter_cmd(3), t.notice)
              or (m.topic == t.event("call") and b"forged" in m.payload)]
    assert leaked == []


def test_the_bridge_config_forwards_only_out(pair) -> None:
    text = pair[1].files.config.read_text()
    site_id = pair[1].site.site.id
    topics = [line for line in text.splitlines() if line.startswith("topic ")]
    assert topics == [f"topic giliran/{site_id}/event/# out 1", f"topic giliran/{site_id}/status/# out 1",
                      f"topic giliran/{site_id}/board out 1"]
    assert pair[1].files.config.stat().st_mode & 0o777 == 0o640   # it holds the head-office password


def test_a_bridge_file_with_problems_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "head-office.toml"
    path.write_text('host = "mqtt.example"\nusername = "site-x"\npassword = "two words"\n')
    with pytest.raises(ConfigError, match="password must be non-empty with no spaces"):
        load_bridge(path)
    path.write_text('host = "mqtt.example"\nusername = "site-x"\npassword = "p"\nprot = 1\n')
    with pytest.raises(ConfigError, match="prot"):
        load_bridge(path)
    path.write_text('host = "mqtt.example"\nusername = "site-x"\npassword = "p"\nca_file = "/etc/ca.crt"\n')
    assert load_bridge(path).tls and load_bridge(path).port == 8883
