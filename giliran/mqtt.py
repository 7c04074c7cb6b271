"""The MQTT client every node uses: paho-mqtt 2.x speaking MQTT 5.

What it adds to paho, each for a reason found the hard way (checked with paho-mqtt 2.2
and Mosquitto 2.0):
- a retained ``status/<node>`` with a last will "offline", and "offline"
  published on a clean stop, so technicians see every node's health;
- a persistent session (clean_start off + session expiry) and QoS 1, so
  commands sent while a node was briefly away are delivered;
- TCP_NODELAY on the socket after every connect (Nagle costs ~40 ms a hop);
- publishes the broker refuses (reason code 135 "not authorized" in
  on_publish; ``is_published()`` still looks fine) surface as PublishRefused
  and an error log, never silently;
- subscriptions are made again on every connect;
- a second client with this node's id makes the broker drop us; two Pis set up
  as the same node would throw each other off every second forever. Mosquitto
  2.0.11 just closes the socket (newer brokers send reason code 142, "session
  taken over"), so a clash is also recognised as CLASH_DROPS connections in a
  row that the broker closed within CLASH_SHORT_S of accepting them. We back off
  (TAKEOVER_BACKOFF_S, doubling) and report it: an ``event/error``
  "duplicate_node" and a ``clash`` status detail;
- a command-line tool (``ephemeral``) gets its own client id, no status and no
  session, so ``giliran counter 3 next`` does not throw counter 3's node off.

Example::

    node = MqttNode(site, "counter-3", "counter", credentials)
    node.start(); node.wait_connected(5)
    reply = node.request(topics.counter_cmd(3), CounterCommand(action="next"),
                         CounterReply, response_topic=topics.counter_reply(3))
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import ssl
import threading
import time
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from giliran import __version__
from giliran.config import SiteConfig
from giliran.errors import ConfigError, GiliranError, PublishRefused
from giliran.protocol import ErrorEvent, M, NodeRole, NodeStatus, Topics, decode, encode, now_utc

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 3600
#: broker_config's max_packet_size (131072) less room for the fixed header and MQTT 5 properties.
MAX_PACKET_BYTES = 131072 - 1024
# paho doubles its reconnect wait from 1 s up to this cap. Boards must be live again within
# 5 s of the broker's return (tests/faults/test_broker_outage.py); with a cap of 30 s, a
# node could wait 7 s after an 8 s outage, up to 30 s after a long one. A try every 3 s
# per node costs a LAN broker nothing.
RECONNECT_MAX_S = 3
#: MQTT 5 reason code of the DISCONNECT the broker sends when another client connects with our id.
SESSION_TAKEN_OVER = 142
#: A connection the broker closes this soon after accepting it, CLASH_DROPS times in a row, is a clash.
CLASH_SHORT_S = 5.0
CLASH_DROPS = 3
#: First wait after a takeover; it doubles with each one, up to TAKEOVER_BACKOFF_MAX_S. The node
#: that connected last keeps working meanwhile.
TAKEOVER_BACKOFF_S = 30
TAKEOVER_BACKOFF_MAX_S = 600


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    @classmethod
    def load(cls, path: Path) -> Credentials:
        """Read a credentials file written by ``giliran broker init``."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(str(path), [f"cannot read credentials: {exc.strerror}"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
        missing = [k for k in ("username", "password") if not isinstance(raw.get(k), str)]
        if missing:
            raise ConfigError(str(path), [f"{k}: missing or not a string" for k in missing])
        return cls(raw["username"], raw["password"])


@dataclass(frozen=True)
class Incoming:
    """A received message with the MQTT 5 properties nodes care about."""

    topic: str
    payload: bytes
    retain: bool
    response_topic: str | None
    correlation_data: bytes | None


Handler = Callable[[Incoming], None]


class PublishHandle:
    """The fate of one QoS 1 publish: acknowledged, or refused by the broker."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self._done = threading.Event()
        self._reason: str | None = None

    def _settle(self, reason: str | None) -> None:
        self._reason = reason
        self._done.set()

    def wait(self, timeout: float) -> None:
        """Block until the broker acknowledges; raise PublishRefused if it refused."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"no acknowledgement for a publish to {self.topic} in {timeout} s")
        if self._reason is not None:
            raise PublishRefused(f"the broker refused a publish to {self.topic}: {self._reason}")


class MqttNode:
    """One node's connection to the site broker."""

    def __init__(
        self,
        site: SiteConfig,
        node_id: str,
        role: NodeRole,
        credentials: Credentials | None,
        *,
        on_refused: Callable[[str, str], None] | None = None,
        ephemeral: bool = False,
        takeover_backoff_s: float = TAKEOVER_BACKOFF_S,
    ) -> None:
        """``ephemeral``: a short-lived tool acting as ``node_id`` (its credentials, its ACL) with its
        own client id, no retained status or last will, and no session left on the broker."""
        self.site = site
        self.ephemeral = ephemeral
        self._takeover_backoff_s = takeover_backoff_s
        self._takeovers = 0
        self._short_drops = 0
        self._clash_pending = False
        self._connected_at: float | None = None
        self.node_id = node_id
        self.role = role
        self.topics = Topics(site.site.id)
        self._started_at = now_utc()
        self._details: dict[str, str | int | float | bool | None] = {}
        self._handlers: dict[str, Handler] = {}
        self._connection_listeners: list[Callable[[bool], None]] = []
        self._on_refused = on_refused
        self._pending: dict[int, PublishHandle] = {}
        self._early: dict[int, str | None] = {}
        self._replies: dict[bytes, tuple[threading.Event, list[bytes]]] = {}
        self._reply_topics: set[str] = set()
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._stopping = False
        self._client = self._make_client(credentials)

    # --- lifecycle --------------------------------------------------------------

    def _make_client(self, credentials: Credentials | None) -> paho.Client:
        self.client_id = f"giliran-{self.site.site.id}-{self.node_id}"
        if self.ephemeral:
            self.client_id += f"-tool-{uuid.uuid4().hex[:8]}"
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv5)
        if credentials is not None:
            client.username_pw_set(credentials.username, credentials.password)
        broker = self.site.broker
        if broker.tls:
            client.tls_set(ca_certs=broker.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if not self.ephemeral:
            offline = NodeStatus(node=self.node_id, state="offline", role=self.role, version=__version__)
            client.will_set(self.topics.status(self.node_id), encode(offline), qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=RECONNECT_MAX_S)
        client.max_queued_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        return client

    def start(self) -> None:
        """Connect in the background; paho reconnects with backoff until stop()."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0 if self.ephemeral else SESSION_EXPIRY_S
        broker = self.site.broker
        self._client.connect_async(
            broker.host, broker.port, keepalive=broker.keepalive_s, clean_start=self.ephemeral, properties=props
        )
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> None:
        if not self._connected.wait(timeout):
            broker = self.site.broker
            raise GiliranError(f"{self.node_id}: could not connect to the broker at {broker.host}:{broker.port}"
                               f" within {timeout} s")

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def stop(self) -> None:
        """Publish 'offline' and disconnect cleanly (so the will is not needed)."""
        self._stopping = True
        if self._connected.is_set() and not self.ephemeral:
            offline = NodeStatus(node=self.node_id, state="offline", role=self.role, version=__version__)
            handle = self.publish(self.topics.status(self.node_id), offline, retain=True)
            try:
                handle.wait(2.0)
            except (TimeoutError, PublishRefused) as exc:
                log.warning("%s: offline status not confirmed: %s", self.node_id, exc)
        self._client.disconnect()
        self._client.loop_stop()

    def on_connection(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(connected)`` on every connect and disconnect."""
        self._connection_listeners.append(listener)

    # --- publishing -------------------------------------------------------------

    def publish(
        self,
        topic: str,
        message: msgspec.Struct | bytes,
        *,
        retain: bool = False,
        expiry_s: int | None = None,
        response_topic: str | None = None,
        correlation_data: bytes | None = None,
    ) -> PublishHandle:
        """QoS 1 publish. Queued by paho while disconnected and sent on reconnect."""
        payload = message if isinstance(message, bytes) else encode(message)
        if len(payload) + len(topic.encode()) > MAX_PACKET_BYTES:
            # The broker would drop the connection, and the persistent session would resend it forever.
            handle = PublishHandle(topic)
            handle._settle(f"{len(payload)} bytes is over the broker's packet limit of {MAX_PACKET_BYTES}")
            log.error("%s: not publishing %d bytes to %s: over the packet limit", self.node_id, len(payload), topic)
            return handle
        props = Properties(PacketTypes.PUBLISH)
        if expiry_s is not None:
            props.MessageExpiryInterval = expiry_s
        if response_topic is not None:
            props.ResponseTopic = response_topic
        if correlation_data is not None:
            props.CorrelationData = correlation_data
        handle = PublishHandle(topic)
        # Never hold our lock while calling into paho: its network thread holds paho's
        # locks while it calls _on_publish, which takes ours (lock-order inversion).
        info = self._client.publish(topic, payload, qos=1, retain=retain, properties=props)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            handle._settle(paho.error_string(info.rc))
            return handle
        with self._lock:
            if info.mid in self._early:  # acknowledged before we got here
                handle._settle(self._early.pop(info.mid))
            else:
                self._pending[info.mid] = handle
        return handle

    def set_status(self, **details: str | int | float | bool | None) -> None:
        """Update and republish this node's retained 'online' status."""
        self._details.update(details)
        if self._connected.is_set() and not self.ephemeral:
            self.publish(self.topics.status(self.node_id), self._status(), retain=True)

    def _status(self) -> NodeStatus:
        return NodeStatus(node=self.node_id, state="online", role=self.role, version=__version__,
                          started_at=self._started_at, details=dict(self._details))

    def request(
        self,
        topic: str,
        message: msgspec.Struct,
        reply_kind: type[M],
        *,
        response_topic: str,
        timeout: float = 5.0,
        expiry_s: int | None = None,
    ) -> M:
        """Publish a command and wait for its MQTT 5 reply (matched by correlation data)."""
        self._ensure_reply_subscription(response_topic)
        correlation = uuid.uuid4().bytes
        done = threading.Event()
        box: list[bytes] = []
        self._replies[correlation] = (done, box)
        try:
            self.publish(topic, message, expiry_s=expiry_s, response_topic=response_topic,
                         correlation_data=correlation).wait(timeout)
            if not done.wait(timeout):
                raise TimeoutError(f"no reply on {response_topic} within {timeout} s (is the kiosk running?)")
            return decode(box[0], reply_kind)
        finally:
            self._replies.pop(correlation, None)

    def _ensure_reply_subscription(self, response_topic: str) -> None:
        if response_topic in self._reply_topics:
            return
        self._reply_topics.add(response_topic)
        # On one connection the broker handles SUBSCRIBE before the PUBLISH that follows it,
        # so the reply cannot arrive before the subscription is in place.
        self.subscribe(response_topic, self._on_reply)

    def _on_reply(self, msg: Incoming) -> None:
        waiter = self._replies.get(msg.correlation_data or b"")
        if waiter is not None:
            waiter[1].append(msg.payload)
            waiter[0].set()

    # --- subscribing --------------------------------------------------------------

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Route messages matching ``topic_filter`` to ``handler`` (QoS 1), now and after reconnects."""
        self._handlers[topic_filter] = handler
        if self._connected.is_set():
            self._client.subscribe(topic_filter, qos=1)

    # --- paho callbacks (network thread) -----------------------------------------

    def _on_connect(self, client: paho.Client, _userdata: object, _flags: object,
                    reason_code: paho.ReasonCode, _props: object) -> None:
        if reason_code.is_failure:
            log.error("%s: broker refused the connection: %s", self.node_id, reason_code)
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for topic_filter in self._handlers:
            client.subscribe(topic_filter, qos=1)
        log.debug("%s: subscribed to %s", self.node_id, ", ".join(self._handlers) or "nothing")
        self._connected.set()
        self._connected_at = time.monotonic()
        if self._clash_pending:
            self._clash_pending = False
            client.reconnect_delay_set(min_delay=1, max_delay=RECONNECT_MAX_S)
            self._report_clash()
        if not self.ephemeral:
            self.publish(self.topics.status(self.node_id), self._status(), retain=True)
        log.info("%s: connected to the broker", self.node_id)
        for listener in self._connection_listeners:
            listener(True)

    def _on_disconnect(self, _client: paho.Client, _userdata: object, _flags: object,
                       reason_code: paho.ReasonCode, _props: object) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if was_connected and not self._stopping and self._clash_suspected(reason_code.value):
            self._taken_over(_client)
        if self._stopping:
            log.info("%s: disconnected", self.node_id)
        elif was_connected:
            log.warning("%s: disconnected from the broker (%s); reconnecting", self.node_id, reason_code)
            for listener in self._connection_listeners:
                listener(False)

    def _clash_suspected(self, reason: int) -> bool:
        """Whether this drop looks like another client with our id: the broker said so, or it keeps
        closing connections just after accepting them (a broker restart or a network loss does not)."""
        up_for = time.monotonic() - self._connected_at if self._connected_at is not None else 0.0
        self._short_drops = self._short_drops + 1 if up_for < CLASH_SHORT_S else 0
        if up_for > TAKEOVER_BACKOFF_MAX_S:  # an old clash, long over: start the backoff again
            self._takeovers = 0
        return reason == SESSION_TAKEN_OVER or self._short_drops >= CLASH_DROPS

    def _taken_over(self, client: paho.Client) -> None:
        """Another client connected with our id: wait longer each time, so one of the two can work."""
        self._takeovers += 1
        delay = max(1, round(min(self._takeover_backoff_s * 2 ** (self._takeovers - 1), TAKEOVER_BACKOFF_MAX_S)))
        self._clash_pending = True
        self._details["clash"] = self._clash_message()
        log.error("%s: %s; reconnecting in %d s", self.node_id, self._clash_message(), delay)
        client.reconnect_delay_set(min_delay=delay, max_delay=delay)

    def _clash_message(self) -> str:
        return (f"the broker keeps closing this node's connection ({self._takeovers} times): another client"
                f" connects with its id {self.client_id}; are two Pis set up as node {self.node_id}?")

    def _report_clash(self) -> None:
        """Tell technicians, now that we can: an error event (the status carries ``clash`` too)."""
        event = ErrorEvent(node=self.node_id, code="duplicate_node", message=self._clash_message(), at=now_utc(),
                           topic=self.topics.status(self.node_id))
        self.publish(self.topics.event("error"), event)

    def _on_publish(self, _client: paho.Client, _userdata: object, mid: int,
                    reason_code: paho.ReasonCode, _props: object) -> None:
        refused = reason_code.is_failure
        with self._lock:
            handle = self._pending.pop(mid, None)
            if handle is None:
                self._early[mid] = str(reason_code) if refused else None
        if refused:
            topic = handle.topic if handle else f"message {mid}"
            log.error("%s: the broker refused a publish to %s: %s", self.node_id, topic, reason_code)
            if self._on_refused is not None:
                self._on_refused(topic, str(reason_code))
        if handle is not None:
            handle._settle(str(reason_code) if refused else None)

    def _on_message(self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
        props = message.properties
        incoming = Incoming(
            topic=message.topic,
            payload=bytes(message.payload),
            retain=bool(message.retain),
            response_topic=getattr(props, "ResponseTopic", None),
            correlation_data=getattr(props, "CorrelationData", None),
        )
        for topic_filter, handler in list(self._handlers.items()):
            if paho.topic_matches_sub(topic_filter, message.topic):
                try:
                    handler(incoming)
                except Exception:  # a bad handler must not kill the network thread
                    log.exception("%s: handler for %s failed", self.node_id, message.topic)


def credentials_for(site: SiteConfig, node_id: str, directory: Path | None = None) -> Credentials:
    """The credentials file of a node: ``<credentials_dir>/<node>.toml``."""
    return Credentials.load((directory or Path(site.broker.credentials_dir)) / f"{node_id}.toml")


def age_s(sent_at: dt.datetime | None) -> float:
    """How old a command is by its own timestamp (0 when it has none)."""
    return 0.0 if sent_at is None else (now_utc() - sent_at).total_seconds()
