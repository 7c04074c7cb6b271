"""The broker's TLS listener against a real Mosquitto: the site CA lets nodes in, nothing else does."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from giliran.config import SiteConfig
from giliran.errors import TlsError
from giliran.mqtt import MqttNode
from giliran.tls import TlsFiles, certificate_hosts, ensure_tls_files, require_tls_files, server_cert_problem
from hardware_sim.outward_broker import OutwardBroker


@pytest.fixture(scope="module")
def tls_files(site: SiteConfig, tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_tls_files(tmp_path_factory.mktemp("tls"), site.site.id, ["127.0.0.1", "broker.local"])


@pytest.fixture(scope="module")
def tls_broker(site: SiteConfig, tls_files: TlsFiles,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutwardBroker]:
    with OutwardBroker(site, tmp_path_factory.mktemp("tls-broker"), tls=tls_files) as broker:
        yield broker


def test_a_node_with_the_site_ca_connects_over_tls_and_talks(tls_broker: OutwardBroker, recorder) -> None:
    assert tls_broker.tls_site.broker.tls and tls_broker.tls_site.broker.port == tls_broker.tls_port
    tech = MqttNode(tls_broker.tls_site, "technician", "technician", tls_broker.credentials("technician"))
    kiosk = MqttNode(tls_broker.tls_site, "kiosk", "kiosk", tls_broker.credentials("kiosk"))
    got = recorder()
    try:
        tech.subscribe(f"{tech.topics.root}/event/#", got)
        tech.start()
        tech.wait_connected(5)
        kiosk.start()
        kiosk.wait_connected(5)
        kiosk.publish(kiosk.topics.event("error"), b'{"v":1,"over":"tls"}').wait(5)
        assert got.wait_for(lambda m: m.topic.endswith("/event/error")).payload == b'{"v":1,"over":"tls"}'
    finally:
        kiosk.stop()
        tech.stop()


def _raw_client(tls_broker: OutwardBroker, user: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"stranger-{user}", protocol=paho.MQTTv5)
    client.username_pw_set(user, tls_broker.credentials(user).password)
    return client


@pytest.mark.parametrize("trust", ["system CAs", "site CA"])
def test_only_a_client_trusting_the_site_ca_completes_the_handshake(tls_broker: OutwardBroker, tls_files: TlsFiles,
                                                                     trust: str) -> None:
    # The system's public CAs (a client's default) never signed the site's broker certificate.
    context = ssl.create_default_context(cafile=str(tls_files.ca_cert) if trust == "site CA" else None)
    with socket.create_connection(("127.0.0.1", tls_broker.tls_port or 0), timeout=5) as raw:
        if trust == "site CA":
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
        else:
            with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
                context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_a_client_without_tls_gets_nothing_from_the_tls_port(tls_broker: OutwardBroker) -> None:
    client = _raw_client(tls_broker, "technician")
    refused = []
    client.on_connect = lambda *args: refused.append(args[3])
    try:
        client.connect("127.0.0.1", tls_broker.tls_port or 0, keepalive=5)
        for _ in range(20):  # bounded: the broker closes a plain-text client on the TLS port
            if client.loop(timeout=0.1) != paho.MQTT_ERR_SUCCESS:
                break
        assert not client.is_connected() and not refused
    finally:
        client.disconnect()


def test_the_plain_listener_still_serves_the_hall(tls_broker: OutwardBroker) -> None:
    node = MqttNode(tls_broker.site, "kiosk", "kiosk", tls_broker.credentials("kiosk"))
    try:
        node.start()
        node.wait_connected(5)
    finally:
        node.stop()


def test_the_config_names_the_tls_listener_and_its_files(tls_broker: OutwardBroker, tls_files: TlsFiles) -> None:
    text = tls_broker.files.config.read_text()
    assert f"listener {tls_broker.tls_port} 127.0.0.1\ncafile {tls_files.ca_cert.resolve()}\n" in text
    assert f"keyfile {tls_files.key.resolve()}\n" in text


def test_running_again_keeps_the_ca_and_the_certificate(tls_files: TlsFiles, site: SiteConfig) -> None:
    before = {p: p.read_bytes() for p in (tls_files.ca_cert, tls_files.ca_key, tls_files.cert, tls_files.key)}
    again = ensure_tls_files(tls_files.ca_cert.parent, site.site.id, ["broker.local"])
    assert {p: p.read_bytes() for p in before} == before
    assert again == tls_files
    assert tls_files.key.stat().st_mode & 0o077 == 0 and tls_files.ca_key.stat().st_mode & 0o077 == 0


def test_a_new_host_name_gets_a_new_certificate_from_the_same_ca(tmp_path: Path, site: SiteConfig) -> None:
    files = ensure_tls_files(tmp_path, site.site.id, ["127.0.0.1"])
    ca = files.ca_cert.read_bytes()
    assert server_cert_problem(files, ["10.1.2.3"]) == "it does not name 10.1.2.3"
    ensure_tls_files(tmp_path, site.site.id, ["127.0.0.1", "10.1.2.3", "Broker.Local"])
    assert files.ca_cert.read_bytes() == ca
    assert certificate_hosts(files.cert) == {"127.0.0.1", "10.1.2.3", "broker.local"}


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(TlsError, match=r"ca\.crt is missing; make it with `giliran tls init"):
        require_tls_files(tmp_path)
