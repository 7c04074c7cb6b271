"""A counter's side of the protocol: send a command as counter N, get the kiosk's reply.

Shared by the keypad node and the command line, so both behave the same.

Example::

    with CounterClient(site, 3, creds) as client:
        reply = client.command("next")
        reply.ticket.number    # 'A012'
"""

from __future__ import annotations

import logging

from giliran.config import SiteConfig
from giliran.kiosk_time import KioskTime
from giliran.mqtt import Credentials, MqttNode
from giliran.protocol import CounterCommand, CounterReply

log = logging.getLogger(__name__)


class CounterClient:
    """An MQTT connection with counter N's credentials (the ACL lets it command only counter N)."""

    def __init__(self, site: SiteConfig, counter: int, credentials: Credentials | None,
                 *, timeout: float = 5.0, node: MqttNode | None = None, kiosk_time: KioskTime | None = None) -> None:
        """``kiosk_time`` (the counter node's, fed by board states) stamps commands in kiosk time."""
        self.site = site
        self.kiosk_time = kiosk_time
        self.counter = counter
        # Wait at least as long as the kiosk may still act on the command: a counter told "no reply"
        # whose command then runs anyway would call a second customer on the next press.
        self.timeout = max(timeout, site.calling.command_expiry_s + 1.0)
        self._owns_node = node is None
        # Its own client id and no status: sharing counter N's id would throw that counter's node off the broker.
        self.node = node or MqttNode(site, f"counter-{counter}", "counter", credentials, ephemeral=True)

    def __enter__(self) -> CounterClient:
        if self._owns_node:
            self.node.start()
            self.node.wait_connected(self.timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owns_node:
            self.node.stop()

    def command(self, action: str, *, category: str | None = None, rating: str | None = None) -> CounterReply:
        """Send one command and wait for the reply; expired commands are dropped by the broker and the kiosk.

        ``sent_at`` is the kiosk's time when this node knows it (never our own wall clock, which may be a
        day off): the kiosk refuses a command that waited in paho's offline queue. Without it (a command
        line, or the first minute of a node), the broker's message expiry still applies.
        """
        topics = self.node.topics
        sent_at = self.kiosk_time.now() if self.kiosk_time is not None else None
        cmd = CounterCommand(action=action, category=category, rating=rating,  # type: ignore[arg-type]
                             sent_at=sent_at)
        return self.node.request(
            topics.counter_cmd(self.counter), cmd, CounterReply,
            response_topic=topics.counter_reply(self.counter),
            timeout=self.timeout,
            expiry_s=self.site.calling.command_expiry_s,
        )


def describe_reply(reply: CounterReply, site: SiteConfig) -> str:
    """One line for staff: what happened, or why not."""
    if not reply.ok:
        assert reply.error is not None
        return f"counter {reply.counter}: {reply.action or 'command'} refused: {reply.error.message}"
    ticket = reply.ticket
    if reply.action in ("next", "recall") and ticket:
        name = site.category(ticket.category).name.get("en", ticket.category)
        return f"counter {reply.counter}: calling {ticket.number} ({name}); {reply.waiting} waiting"
    if ticket:
        return f"counter {reply.counter}: {reply.action} {ticket.number} ({ticket.state}); {reply.waiting} waiting"
    return f"counter {reply.counter}: {reply.action} done; {reply.waiting} waiting"
