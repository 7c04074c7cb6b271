"""Every account may write and read only what its role needs: the whole matrix, on a real Mosquitto.

The rights below are written from DESIGN.md ("each role touches only its own
topics; a display cannot call a number; counter 3 cannot act for counter 4"),
not copied from ``giliran.broker.acl_text``, so the broker's ACL is checked
against the intent. The accounts come from ``giliran.broker.accounts``: a new
display or counter is covered at once, and a new *role* fails here until its
rights are written down.

Writes: each account publishes a marker to every topic of the site (and a few
outside it); a forbidden one must raise PublishRefused (reason code 135) and
reach no subscriber, live or retained. Reads: every account subscribes to
``#`` and to each topic on its own, markers are published by whoever may write
them, and each account must receive exactly what it may read; the technician
sees them all. Mosquitto grants a denied subscription and then delivers
nothing, so "nothing" is checked after a barrier message, never after a sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from giliran.broker import Account, accounts
from giliran.errors import PublishRefused
from giliran.mqtt import Incoming, MqttNode
from giliran.protocol import Topics
from hardware_sim.broker import LocalBroker
from tests.badinput.support import SITE, TALLY, WAIT_S, Inbox

T = Topics(SITE.site.id)
ACCOUNTS = accounts(SITE)
MARKER = b"acl-marker "
BARRIER = b"acl-barrier"


def may_write(account: Account) -> list[str]:
    """Topic filters the role may publish to (the design's intent)."""
    own = [T.status(account.node_id), T.node_reply(account.node_id)]
    match account.role:
        case "kiosk":
            return [*own, T.board, f"{T.root}/event/#", T.counter_reply("+"), f"{T.counter_reply('+')}/#"]
        case "display":
            return [*own, T.event("error")]
        case "counter":
            return [*own, T.counter_cmd(account.counter or 0), T.event("error")]
        case "technician":
            return [T.status(account.node_id), T.counter_cmd("+"), T.node_cmd("+"), T.notice]
    raise AssertionError(f"no rights written down for role {account.role!r}: add them to may_write and may_read")


def may_read(account: Account) -> list[str]:
    """Topic filters the role may receive from (the design's intent)."""
    own = [T.node_cmd(account.node_id)]
    match account.role:
        case "kiosk":
            return [*own, T.counter_cmd("+")]
        case "display":
            return [*own, T.board, T.notice, T.status("kiosk")]
        case "counter":
            n = account.counter or 0
            return [*own, T.counter_reply(n), f"{T.counter_reply(n)}/#", T.board]
        case "technician":
            return [f"{T.root}/#"]
    raise AssertionError(f"no rights written down for role {account.role!r}: add them to may_write and may_read")


def allowed(filters: list[str], topic: str) -> bool:
    return any(paho.topic_matches_sub(f, topic) for f in filters)


def site_topics() -> list[str]:
    """Every concrete topic of the site, for every account and counter, and a few that belong to no one."""
    topics = [T.board, T.notice, *(T.event(kind) for kind in ("call", "ticket", "feedback", "error"))]  # type: ignore[arg-type]
    for account in ACCOUNTS:
        topics += [T.status(account.node_id), T.node_cmd(account.node_id), T.node_reply(account.node_id)]
    for counter in SITE.counters:
        topics += [T.counter_cmd(counter.id), T.counter_reply(counter.id), f"{T.counter_reply(counter.id)}/x"]
    return topics + [T.counter_cmd(99), T.status("intruder"), T.node_cmd("intruder"), f"{T.root}/other"]


TOPICS_UNDER_TEST = site_topics()
OUTSIDE = ["giliran/other-site/board", "giliran/other-site/counter/1/cmd", "elsewhere"]


def barrier_topic(account: Account) -> str:
    """A topic the account may write and the technician reads, published last to close a round."""
    topic = T.node_reply(account.node_id) if account.role != "technician" else T.status(account.node_id)
    assert allowed(may_write(account), topic)
    return topic


class Observer:
    """A raw client with the technician's account on ``root/#``: sees whatever the broker let through."""

    def __init__(self, broker: LocalBroker, client_id: str) -> None:
        creds = broker.credentials("technician")
        self.inbox = Inbox()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        self.client.username_pw_set(creds.username, creds.password)
        subscribed = threading.Event()
        self.client.on_message = lambda _c, _u, m: self.inbox(Incoming(m.topic, m.payload, bool(m.retain), None, None))
        self.client.on_connect = lambda c, *_: c.subscribe(f"{T.root}/#", qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port, clean_start=True)
        self.client.loop_start()
        assert subscribed.wait(WAIT_S), "the observer could not subscribe"

    def markers(self) -> dict[str, list[bytes]]:
        with self.inbox._cond:
            return {topic: [m.payload for m in msgs if m.payload.startswith(MARKER)]
                    for topic, msgs in self.inbox.by_topic.items()
                    if any(m.payload.startswith(MARKER) for m in msgs)}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def observer(broker: LocalBroker) -> Iterator[Observer]:
    watcher = Observer(broker, "acl-observer")
    try:
        yield watcher
    finally:
        watcher.close()


@pytest.mark.parametrize("account", ACCOUNTS, ids=[a.node_id for a in ACCOUNTS])
def test_an_account_can_publish_only_where_its_role_may(account: Account, broker: LocalBroker, observer: Observer,
                                                         connect) -> None:  # type: ignore[no-untyped-def]
    node: MqttNode = connect(account.node_id, account.role)
    rights = may_write(account)
    handles = [(topic, node.publish(topic, MARKER + topic.encode(), retain=True))
               for topic in TOPICS_UNDER_TEST + OUTSIDE]
    refused, accepted = [], []
    for topic, handle in handles:
        TALLY.count("acl: publish", "broker")
        try:
            handle.wait(WAIT_S)
            accepted.append(topic)
        except PublishRefused:
            refused.append(topic)
    assert accepted == [t for t in TOPICS_UNDER_TEST if allowed(rights, t)], f"{account.node_id} wrote where it may not"
    assert refused == [t for t in TOPICS_UNDER_TEST + OUTSIDE if not allowed(rights, t)]

    node.publish(barrier_topic(account), BARRIER).wait(WAIT_S)
    observer.inbox.wait_for(barrier_topic(account), lambda m: m.payload == BARRIER)
    assert sorted(observer.markers()) == sorted(accepted), "a refused publish reached a subscriber"

    late = Observer(broker, "acl-late-observer")  # retained messages are sent with the subscription
    try:
        late.client.publish(T.status("technician"), BARRIER, qos=1).wait_for_publish(WAIT_S)
        late.inbox.wait_for(T.status("technician"), lambda m: m.payload == BARRIER)
        assert sorted(late.markers()) == sorted(accepted), "a refused publish was kept as a retained message"
    finally:
        late.close()


def test_every_account_receives_only_what_its_role_may_read(broker: LocalBroker, connect) -> None:  # type: ignore[no-untyped-def]
    nodes = {a.node_id: connect(a.node_id, a.role) for a in ACCOUNTS}
    inboxes = {a.node_id: Inbox() for a in ACCOUNTS}
    for account in ACCOUNTS:
        node = nodes[account.node_id]
        for topic_filter in ["#", f"{T.root}/#", *TOPICS_UNDER_TEST]:  # granted even where denied; then silent
            node.subscribe(topic_filter, inboxes[account.node_id])
        # On one connection SUBSCRIBE is handled before the PUBLISH after it: once acknowledged, all are in place.
        node.publish(barrier_topic(account), b"subscribed").wait(WAIT_S)

    written: list[str] = []
    for topic in TOPICS_UNDER_TEST:
        writer = next((a for a in ACCOUNTS if allowed(may_write(a), topic)), None)
        if writer is not None:
            nodes[writer.node_id].publish(topic, MARKER + topic.encode()).wait(WAIT_S)
            written.append(topic)
    assert len(written) > len(ACCOUNTS), written
    technician = nodes["technician"]
    for account in ACCOUNTS:  # after every marker, on a topic each account reads: the end of its round
        technician.publish(T.node_cmd(account.node_id), BARRIER).wait(WAIT_S)

    for account in ACCOUNTS:
        TALLY.count("acl: subscribe", "broker")
        inbox = inboxes[account.node_id]
        inbox.wait_for(T.node_cmd(account.node_id), lambda m: m.payload == BARRIER)
        with inbox._cond:
            got = sorted({t for t, msgs in inbox.by_topic.items() if any(m.payload.startswith(MARKER) for m in msgs)})
        expected = sorted(t for t in written if allowed(may_read(account), t))
        assert got == expected, f"{account.node_id} read {sorted(set(got) - set(expected))}, missed" \
                                f" {sorted(set(expected) - set(got))}"
    assert sorted({t for t, ms in inboxes["technician"].by_topic.items()
                   if any(m.payload.startswith(MARKER) for m in ms)}) == sorted(written)


@pytest.mark.parametrize(("username", "password"), [(None, None), ("kiosk", "guess"), ("intruder", "guess"),
                                                    ("technician", "")])
def test_anonymous_and_unknown_clients_are_refused(broker: LocalBroker, username: str | None,
                                                   password: str | None) -> None:
    TALLY.count("acl: connect", "broker")
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-{username}", protocol=paho.MQTTv5)
    if username is not None:
        client.username_pw_set(username, password)
    result: list[paho.ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, rc, _p: result.append(rc)
    client.connect("127.0.0.1", broker.port)
    for _ in range(100):  # bounded: about 5 s of network loop
        client.loop(0.05)
        if result:
            break
    client.disconnect()
    assert result and result[0].is_failure, f"{username!r} was let in: {result}"
    assert result[0].value in (134, 135), result[0]  # bad user name or password / not authorized
