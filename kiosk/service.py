"""The kiosk's ledger served over MQTT: counter commands in, replies, events and board state out.

Every payload is validated first; one that fails gets an error reply (and an
error event) naming the problem, and the ledger is not touched. A command
older than ``calling.command_expiry_s`` (by its ``sent_at``, which counters stamp
in kiosk time learned from the board state, and the kiosk compares with its own
ledger time: no two Pis' wall clocks are compared) is refused, so a keypad press
queued in a counter during an outage never fires a minute later.
Acting and publishing happen under one lock, so retained board states are
published in the order the ledger changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from giliran.errors import GiliranError, LedgerError, ProtocolError, StorageFault
from giliran.ledger import Ledger
from giliran.ledger_store import Ticket
from giliran.mqtt import Incoming, MqttNode
from giliran.protocol import (
    CallEvent,
    CounterCommand,
    CounterReply,
    ErrorEvent,
    ErrorInfo,
    FeedbackEvent,
    TechCommand,
    TechReply,
    TicketEvent,
    brief,
    decode,
    now_utc,
)
from kiosk.board_state import board_state, ticket_view

log = logging.getLogger(__name__)

TechHandler = Callable[[TechCommand], str]
FaultListener = Callable[[StorageFault], None]


class LedgerService:
    """Connects a Ledger to the site's MQTT broker. Hardware-free; the kiosk node adds buttons and printer."""

    def __init__(self, ledger: Ledger, mqtt: MqttNode) -> None:
        self.ledger = ledger
        self.mqtt = mqtt
        self._lock = threading.RLock()
        self._tech_handlers: dict[str, TechHandler] = {"ping": lambda _cmd: "pong"}
        self._fault_listeners: list[FaultListener] = []
        self._board_due = threading.Event()
        self._closing = False
        self._board_thread = threading.Thread(target=self._board_loop, name="board-publisher", daemon=True)
        calls = ledger.recent_calls(1)
        self._last_call_id = calls[0].call_id if calls else 0
        topics = mqtt.topics
        mqtt.subscribe(topics.counter_cmd("+"), self._on_counter_command)
        mqtt.subscribe(topics.node_cmd(mqtt.node_id), self._on_tech_command)
        mqtt.on_connection(self._on_connection)
        self._board_thread.start()
        if mqtt.connected:
            self.publish_board()

    def _on_connection(self, up: bool) -> None:
        if up:  # a reconnect may follow a broker restart that lost retained state
            self.publish_board()

    def on_storage_fault(self, listener: FaultListener) -> None:
        """Called when a command or the board build met a ledger storage fault (the kiosk's StorageWatch)."""
        self._fault_listeners.append(listener)

    def _storage_fault(self, fault: StorageFault) -> None:
        for listener in self._fault_listeners:
            listener(fault)

    def on_tech(self, action: str, handler: TechHandler) -> None:
        """Serve a technician command (e.g. 'test_print'); the handler returns a message."""
        self._tech_handlers[action] = handler

    def close(self) -> None:
        """Stop the board publisher thread (after one last publish of pending changes)."""
        self._closing = True
        self._board_due.set()
        self._board_thread.join(5)

    # --- publishing ---------------------------------------------------------------

    def publish_board(self) -> None:
        """Ask for the board state to be republished, off the caller's thread.

        paho writes packets from its network thread only after a callback
        returns, so building the board inside a command's callback would delay
        the reply staff are waiting for. Requests made in a burst coalesce into
        one publish of the latest state.
        """
        self._board_due.set()

    def _board_loop(self) -> None:
        while not self._closing:
            self._board_due.wait()
            self._board_due.clear()
            try:
                self._publish_board_now()
            except StorageFault as fault:  # boards keep the last good state; the status says why
                log.warning("board state not rebuilt: %s", fault)
                self._storage_fault(fault)
            except Exception:  # the publisher must outlive one bad build
                log.exception("could not publish the board state")

    def _publish_board_now(self) -> None:
        with self._lock:
            state = board_state(self.ledger)
            # Offline, a board publish would wait in paho's queue and could land after the fresh one
            # published on reconnect, leaving an old board retained; on_connect republishes anyway.
            if self.mqtt.connected:
                self.mqtt.publish(self.mqtt.topics.board, state, retain=True)
            for call in sorted(state.calls, key=lambda c: c.call_id):
                if call.call_id > self._last_call_id:
                    self.mqtt.publish(self.mqtt.topics.event("call"), CallEvent(call=call))
                    self._last_call_id = call.call_id

    def ticket_event(self, event: str, ticket: Ticket) -> None:
        self.mqtt.publish(self.mqtt.topics.event("ticket"),
                          TicketEvent(event=event, ticket=ticket_view(self.ledger, ticket)))  # type: ignore[arg-type]

    def error_event(self, code: str, message: str, topic: str | None = None) -> None:
        log.warning("%s: %s (%s)", code, message, topic)
        self.mqtt.publish(self.mqtt.topics.event("error"),
                          ErrorEvent(node=self.mqtt.node_id, code=code, message=message, at=now_utc(), topic=topic))

    def changed(self, event: str | None = None, ticket: Ticket | None = None) -> None:
        """Tell the hall about a ledger change made by this node (e.g. a ticket printed)."""
        with self._lock:
            if event and ticket:
                self.ticket_event(event, ticket)
            self.publish_board()

    # --- counter commands -----------------------------------------------------------

    def _on_counter_command(self, msg: Incoming) -> None:
        counter = self.mqtt.topics.counter_of(msg.topic)
        reply_topic = self._reply_topic(msg, counter)
        with self._lock:
            reply, changed = self._handle(msg, counter)
            # The reply first: staff wait for it; boards follow a moment later.
            self.mqtt.publish(reply_topic, reply, correlation_data=msg.correlation_data)
            if changed:
                self.publish_board()

    def _reply_topic(self, msg: Incoming, counter: int | None) -> str:
        """Only a reply topic of the same counter: a command cannot steer our publishes elsewhere."""
        default = self.mqtt.topics.counter_reply(counter if counter is not None else "unknown")
        wanted = msg.response_topic
        if wanted and (wanted == default or wanted.startswith(default + "/")):
            return wanted
        if wanted:
            log.warning("ignored response topic %r for a command on %s", wanted, msg.topic)
        return default

    def _handle(self, msg: Incoming, counter: int | None) -> tuple[CounterReply, bool]:
        """The reply, and whether the ledger changed (a refused Next may still have opened the counter)."""
        action: str | None = None
        try:
            if counter is None:
                raise ProtocolError(f"topic {msg.topic!r} does not name a counter number")
            cmd = decode(msg.payload, CounterCommand)
            action = cmd.action
            site = self.ledger.site
            if all(c.id != counter for c in site.counters):  # before SQLite, which overflows past 2**63
                raise LedgerError("unknown_counter", f"no counter {counter} at site {site.site.id}")
            age = self.ledger.now() - cmd.sent_at.timestamp() if cmd.sent_at else 0.0
            limit = self.ledger.site.calling.command_expiry_s
            if age > limit:
                raise LedgerError("stale_command", f"the {cmd.action} command is {age:.0f} s old (limit {limit} s);"
                                                   " press the key again")
            ticket = self._act(counter, cmd)
            waiting = self.ledger.waiting_count()
            return CounterReply(ok=True, counter=counter, action=action,
                                ticket=ticket_view(self.ledger, ticket) if ticket else None, waiting=waiting), True
        except ProtocolError as exc:
            self.error_event("bad_payload", str(exc), msg.topic)
            return CounterReply(ok=False, counter=counter, action=action,
                                error=ErrorInfo(code="bad_payload", message=str(exc))), False
        except LedgerError as exc:  # brief: the message may quote the command's own (huge) category
            if isinstance(exc, StorageFault):
                self._storage_fault(exc)
            return CounterReply(ok=False, counter=counter, action=action,
                                error=ErrorInfo(code=exc.code, message=brief(str(exc)))), exc.changed

    def _act(self, counter: int, cmd: CounterCommand) -> Ticket | None:
        ledger = self.ledger
        match cmd.action:
            case "next":
                return ledger.next(counter)
            case "recall":
                return ledger.recall(counter)
            case "no_show":
                ticket = ledger.no_show(counter)
                self.ticket_event("no_show", ticket)
                return ticket
            case "done":
                ticket = ledger.done(counter)
                self.ticket_event("done", ticket)
                return ticket
            case "transfer":
                assert cmd.category is not None
                ticket = ledger.transfer(counter, cmd.category)
                self.ticket_event("transferred", ticket)
                return ticket
            case "pause" | "open" | "close":
                state = {"pause": "paused", "open": "open", "close": "closed"}[cmd.action]
                return ledger.set_counter_state(counter, state).serving
            case "feedback":
                assert cmd.rating is not None
                ticket = ledger.feedback(counter, cmd.rating)
                self.mqtt.publish(self.mqtt.topics.event("feedback"),
                                  FeedbackEvent(number=ticket.number, counter=counter, rating=cmd.rating,
                                                at=now_utc()))
                return ticket
        raise LedgerError("unknown_action", f"unknown action {cmd.action!r}")

    # --- technician commands -----------------------------------------------------------

    def _on_tech_command(self, msg: Incoming) -> None:
        topics = self.mqtt.topics
        reply_topic = msg.response_topic if msg.response_topic == topics.node_reply(self.mqtt.node_id) else \
            topics.node_reply(self.mqtt.node_id)
        action: str | None = None
        try:
            cmd = decode(msg.payload, TechCommand)
            action = cmd.action
            handler = self._tech_handlers.get(cmd.action)
            if handler is None:
                raise LedgerError("unsupported", f"the kiosk does not support {cmd.action!r}")
            with self._lock:
                reply = TechReply(ok=True, node=self.mqtt.node_id, action=action, message=handler(cmd))
        except ProtocolError as exc:
            self.error_event("bad_payload", str(exc), msg.topic)
            reply = TechReply(ok=False, node=self.mqtt.node_id, action=action, message=str(exc))
        except GiliranError as exc:
            reply = TechReply(ok=False, node=self.mqtt.node_id, action=action, message=brief(str(exc)))
        self.mqtt.publish(reply_topic, reply, correlation_data=msg.correlation_data)
