"""The MQTT protocol: every topic name and every payload schema, in one place.

docs/PROTOCOL.md and docs/schemas/*.json are generated from this module
(``giliran protocol docs``) and a test fails when they drift.

Payloads are JSON objects with a version field ``v``, ``"MAJOR.MINOR"``. The
version policy makes one-Pi-at-a-time upgrades safe (docs/PROTOCOL.md says it
for users):

- A minor version only *adds* optional fields (with defaults); it never removes
  or renames a field, changes a type or adds a value to an existing choice. A
  change that must do any of those is a new major version.
- **State, events and replies** (what a node reads to show or report) are read
  tolerantly: unknown fields are ignored and any minor of the same major is
  accepted, so a board not yet upgraded keeps rendering a newer kiosk's board.
- **Commands** (counter and technician) stay strict: unknown fields, another
  major, or a minor newer than the receiver are refused with a message naming
  the version, so no command is half understood. Upgrade the kiosk first.
- ``"v": 1`` (a number) is protocol 1.0, what Giliran 0.1 sent.

Decoding raises ProtocolError whose message names the field, so a node can
send it back to whoever published the bad payload.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, TypeVar

import msgspec

from giliran.errors import ProtocolError
from giliran.validation import describe

MAJOR = 1
MINOR = 1
VERSION = f"{MAJOR}.{MINOR}"
MAX_PAYLOAD_BYTES = 64 * 1024
#: Arrays and objects nested deeper than this are refused (a board state is 4 deep).
MAX_NESTING = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
#: Error messages sent back are cut to this: quoted bad input (JSON-escaped twice) could otherwise make an
#: error reply four times the size of the payload, past what the broker accepts.
MAX_ERROR_CHARS = 500

Lang = str
Names = dict[Lang, str]
CounterAction = Literal["next", "recall", "no_show", "done", "transfer", "pause", "open", "close", "feedback"]
Rating = Literal["very_good", "good", "poor"]
CounterState = Literal["open", "paused", "closed"]
TicketState = Literal["waiting", "called", "done", "no_show", "voided", "expired"]
NodeRole = Literal["kiosk", "display", "counter", "technician"]
TechAction = Literal["ping", "test_print", "reprint", "reload", "notice", "volume", "snapshot", "clock_ok"]


def parse_version(v: int | str) -> tuple[int, int]:
    """``"1.1"`` → (1, 1); the number 1 (Giliran 0.1's payloads) → (1, 0); anything else is refused."""
    if isinstance(v, int):
        if v == 1:
            return (1, 0)
        raise ValueError(f"protocol version {v} is not spoken here; this node speaks {VERSION}")
    major, sep, minor = v.partition(".")
    if not (sep and 0 < len(v) <= 11 and major.isascii() and major.isdigit() and minor.isascii()
            and minor.isdigit()):
        raise ValueError(f"protocol version {v!r} is not MAJOR.MINOR, e.g. {VERSION!r}")
    return int(major), int(minor)


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every state, event and reply payload: read tolerantly.

    Unknown fields are ignored and a newer minor version of the same major is
    accepted, so a node not yet upgraded still understands a newer sender.
    """

    v: int | str = VERSION

    def __post_init__(self) -> None:
        major, _ = parse_version(self.v)
        if major != MAJOR:
            raise ValueError(f"protocol version {self.v} is not spoken here; this node speaks {VERSION}"
                             f" (major {MAJOR})")


class Command(Message, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every command: strict. An unknown field, another major or a newer minor is refused."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if parse_version(self.v)[1] > MINOR:
            raise ValueError(f"protocol version {self.v} is newer than this node's {VERSION}:"
                             " upgrade this node first (the kiosk before the others)")


# --- shared parts -------------------------------------------------------------


class TicketView(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket as customers and counters see it."""

    number: str
    category: str
    state: TicketState
    issued_at: dt.datetime
    ahead: int | None = None
    est_wait_min: float | None = None


class ErrorInfo(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    message: str


# --- counter commands and replies ----------------------------------------------


class CounterCommand(Command, frozen=True, kw_only=True):
    """A counter's request to the kiosk's ledger, on ``counter/<n>/cmd``.

    ``sent_at`` lets the kiosk refuse a command that waited in a client's
    offline queue (paho re-sends those after reconnect, possibly minutes later).
    """

    action: CounterAction
    category: str | None = None
    rating: Rating | None = None
    sent_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.action == "transfer" and not self.category:
            raise ValueError("action 'transfer' needs the target 'category'")
        if self.action == "feedback" and self.rating is None:
            raise ValueError("action 'feedback' needs a 'rating'")
        if self.sent_at is not None and self.sent_at.tzinfo is None:
            raise ValueError("sent_at needs a time zone, e.g. 2026-11-24T09:00:00+08:00")


class CounterReply(Message, frozen=True, kw_only=True):
    """The kiosk's answer, on the command's MQTT 5 response topic."""

    ok: bool
    counter: int | None
    action: str | None
    ticket: TicketView | None = None
    waiting: int | None = None
    error: ErrorInfo | None = None


# --- state and events from the kiosk -------------------------------------------


class CounterView(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: Names
    state: CounterState
    categories: list[str]
    serving: str | None = None


class CategoryView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    prefix: str
    name: Names
    waiting: int
    est_wait_min: float | None
    available: bool
    serving_from: dt.datetime | None = None
    """Set when no counter serving it is open yet: the first is expected then ("from 09:00")."""
    no_counter: bool = False
    """No counter is serving it for the rest of today."""


class CallView(msgspec.Struct, frozen=True, kw_only=True):
    """One call of a ticket to a counter. ``call_id`` grows by one per call, recalls included."""

    call_id: int
    number: str
    counter: int
    category: str
    at: dt.datetime
    recall: bool = False


class BoardState(Message, frozen=True, kw_only=True):
    """Everything a board shows; retained on ``board``, so a new board is right at once."""

    site: str
    site_name: Names
    languages: list[str]
    updated_at: dt.datetime
    counters: list[CounterView]
    categories: list[CategoryView]
    calls: list[CallView]


class CallEvent(Message, frozen=True, kw_only=True):
    call: CallView


class TicketEvent(Message, frozen=True, kw_only=True):
    event: Literal["issued", "voided", "transferred", "done", "no_show", "expired"]
    ticket: TicketView


class FeedbackEvent(Message, frozen=True, kw_only=True):
    number: str
    counter: int
    rating: Rating
    at: dt.datetime


class ErrorEvent(Message, frozen=True, kw_only=True):
    """A problem a node wants technicians to see: bad payloads, faults."""

    node: str
    code: str
    message: str
    at: dt.datetime
    topic: str | None = None


# --- node status and technician commands ---------------------------------------


StatusValue = str | int | float | bool | None


class NodeStatus(Message, frozen=True, kw_only=True):
    """Retained on ``status/<node>``; the broker publishes the 'offline' will on loss."""

    node: str
    state: Literal["online", "offline"]
    role: NodeRole | None = None
    version: str | None = None
    started_at: dt.datetime | None = None
    details: dict[str, StatusValue] = msgspec.field(default_factory=dict)


class Notice(Message, frozen=True, kw_only=True):
    """The scrolling notice line on every board; retained; empty text clears it."""

    text: str
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.text) > 500:
            raise ValueError("text is longer than 500 characters")


class TechCommand(Command, frozen=True, kw_only=True):
    action: TechAction
    volume: float | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.action == "volume" and (self.volume is None or not 0.0 <= self.volume <= 1.0):
            raise ValueError("action 'volume' needs 'volume' between 0.0 and 1.0")


class TechReply(Message, frozen=True, kw_only=True):
    ok: bool
    node: str
    action: str | None
    message: str


# --- topics --------------------------------------------------------------------


@dataclass(frozen=True)
class Topics:
    """Topic names under ``giliran/<site>/``.

    >>> Topics("jpn").counter_cmd(3)
    'giliran/jpn/counter/3/cmd'
    """

    site: str

    @property
    def root(self) -> str:
        return f"giliran/{self.site}"

    @property
    def board(self) -> str:
        return f"{self.root}/board"

    @property
    def notice(self) -> str:
        return f"{self.root}/notice"

    def event(self, kind: Literal["call", "ticket", "feedback", "error"]) -> str:
        return f"{self.root}/event/{kind}"

    def counter_cmd(self, counter: int | str) -> str:
        return f"{self.root}/counter/{counter}/cmd"

    def counter_reply(self, counter: int | str) -> str:
        return f"{self.root}/counter/{counter}/reply"

    def status(self, node: str) -> str:
        return f"{self.root}/status/{node}"

    def node_cmd(self, node: str) -> str:
        return f"{self.root}/node/{node}/cmd"

    def node_reply(self, node: str) -> str:
        return f"{self.root}/node/{node}/reply"

    def counter_of(self, topic: str) -> int | None:
        """The counter number in a ``counter/<n>/...`` topic, or None."""
        parts = topic.split("/")
        if len(parts) >= 4 and parts[:2] == ["giliran", self.site] and parts[2] == "counter":
            return int(parts[3]) if parts[3].isascii() and parts[3].isdigit() else None  # not '²' or '٣'
        return None


# --- encoding ------------------------------------------------------------------

M = TypeVar("M", bound=msgspec.Struct)
_encoder = msgspec.json.Encoder()
_decoders: dict[type, msgspec.json.Decoder] = {}


def encode(message: msgspec.Struct) -> bytes:
    return _encoder.encode(message)


def decode(payload: bytes, kind: type[M]) -> M:
    """Validate a payload as ``kind``; ProtocolError names what is wrong."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    try:  # tolerant readers skip unknown keys unread: a key with bad bytes must not pass as valid
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"not a JSON {kind.__name__}: not UTF-8 ({exc.reason})") from None
    if _too_deep(payload):
        raise ProtocolError(f"invalid {kind.__name__}: nested deeper than {MAX_NESTING} levels")
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise ProtocolError(brief(f"invalid {kind.__name__}: {describe(exc)}")) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(brief(f"not a JSON {kind.__name__}: {exc}")) from None



def _too_deep(payload: bytes) -> bool:
    """Whether JSON arrays and objects nest deeper than MAX_NESTING, strings aside.

    Tolerant readers skip unknown fields, and msgspec skips a value by recursing:
    a 64 KiB value nested thousands deep raised RecursionError, or not, depending
    on how deep the caller's own stack was. Refusing by a fixed depth first makes
    the answer the same everywhere. Counting brackets costs nothing for the usual
    payload, which has fewer brackets than the limit.
    """
    if payload.count(b"[") + payload.count(b"{") <= MAX_NESTING:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b"", payload).translate(None, _NOT_BRACKET):
        depth += 1 if byte in b"[{" else -1
        if depth > MAX_NESTING:
            return True
    return False


def brief(message: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``message`` cut to ``limit`` characters: validators quote the bad value, and a reply must stay small."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: Every payload type with the topic pattern it travels on, for docs and schemas.
CATALOGUE: list[tuple[str, type[msgspec.Struct], str]] = [
    ("board", BoardState, "retained; kiosk → boards"),
    ("notice", Notice, "retained; technician → boards"),
    ("event/call", CallEvent, "kiosk → anyone"),
    ("event/ticket", TicketEvent, "kiosk → anyone"),
    ("event/feedback", FeedbackEvent, "kiosk → anyone"),
    ("event/error", ErrorEvent, "any node → technicians"),
    ("counter/<n>/cmd", CounterCommand, "counter n or technician → kiosk"),
    ("counter/<n>/reply", CounterReply, "kiosk → counter n"),
    ("status/<node>", NodeStatus, "retained; every node, last will 'offline'"),
    ("node/<node>/cmd", TechCommand, "technician → node"),
    ("node/<node>/reply", TechReply, "node → technician"),
]
