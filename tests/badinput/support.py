"""Shared pieces of the bad-input tests: payload strategies, a publish capture, an inbox, the run's tally, the
steps every node's cases share (``bad_case``, ``unchanged_state``, the ``check_*`` helpers) and ``OnBroker``.

Test modules import it as ``tests.badinput.support`` (pytest's importlib mode
finds it from the rootdir); strategies must exist when ``@given`` decorates, so
they cannot come from fixtures. The conftest prints the tally at the end.

Bad payloads are made by *mutating valid documents* along the payload's own
msgspec schema (wrong JSON kinds, dropped and unknown fields, bad values, huge
strings, nested junk, invalid UTF-8, raw non-JSON numbers) or by breaking the
whole message (non-JSON bytes, truncation, other top-level types, wrong
versions, deep nesting, more than MAX_PAYLOAD_BYTES). Each bad payload is a
``Broken``: the bytes plus what the generator broke, and ``bad_case`` checks the
error ``decode`` gives against that (the broken field's path, the missing or
unknown field's name, "not a JSON" for broken syntax, the size limit), and that
a breakage which always invalidates a payload did. A node must then pass that
error on word for word.

The version policy (giliran/protocol.py) reads state, events and replies
tolerantly: unknown fields and a newer minor are valid there, so unknown-field
mutations are made only for commands, which stay strict.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import HealthCheck, Phase, assume, settings
from hypothesis import strategies as st

from giliran.config import load_site
from giliran.errors import ProtocolError
from giliran.mqtt import Incoming, MqttNode, PublishHandle
from giliran.protocol import (
    MAJOR,
    MAX_PAYLOAD_BYTES,
    MINOR,
    BoardState,
    CallView,
    CategoryView,
    CounterView,
    ErrorEvent,
    NodeStatus,
    TechReply,
    Topics,
    decode,
    encode,
)

ROOT = Path(__file__).resolve().parents[2]
SITE = load_site(ROOT / "examples" / "site.toml")
TOPICS = Topics(SITE.site.id)
#: broker_config/mosquitto.conf.template: ``max_packet_size``. Oversized payloads stay below it, minus headers.
BROKER_MAX_PACKET = 131072
OVERSIZE_MAX = BROKER_MAX_PACKET - 2048
WAIT_S = 5.0

Doc = Any  # a JSON document as Python values
Where = tuple[str | int, ...]  # a path into a JSON document: keys and list indexes


# --- how many cases, and how ------------------------------------------------------------------

_BASE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                        HealthCheck.data_too_large])


def direct_cases(n: int) -> settings:
    """``n`` cases straight into a node's handler; a failure is shrunk to its smallest payload."""
    return settings(_BASE, max_examples=n)


def broker_cases(n: int) -> settings:
    """``n`` cases through Mosquitto. Not shrunk (every try waits on MQTT): the direct tests shrink the same input."""
    return settings(_BASE, max_examples=n, phases=[Phase.explicit, Phase.reuse, Phase.generate])


# --- the oracle -------------------------------------------------------------------------


def problem_of(payload: bytes, kind: type[msgspec.Struct]) -> str | None:
    """The ProtocolError message ``decode`` gives for ``payload``, or None when it is valid."""
    try:
        decode(payload, kind)
    except ProtocolError as exc:
        return str(exc)
    return None


class Broken(bytes):
    """A bad payload and what was broken in it: the error must contain one of ``names``. ``surely`` when the
    breakage always makes a payload invalid (otherwise one that stays valid is no case)."""

    how: str
    names: tuple[str, ...]
    surely: bool

    def __new__(cls, payload: bytes, how: str, names: Sequence[str], *, surely: bool = True) -> Broken:
        made = super().__new__(cls, payload)
        made.how, made.names, made.surely = how, tuple(names), surely
        return made


NOT_JSON = "not a JSON"
VERSION_SAID = "protocol version"
TOO_DEEP = "nested deeper than"
#: Version strings no node accepts: another major, not MAJOR.MINOR, non-ASCII digits, too long.
BAD_VERSIONS = [f"{MAJOR + 1}.0", f"{MAJOR - 1}.9", f"{MAJOR}", f"{MAJOR}.", f".{MINOR}", f"{MAJOR}.x", "",
                f" {MAJOR}.{MINOR}", f"{MAJOR}.{MINOR} ", f"{MAJOR}.{MINOR}.0", "\uff11.1", "1.\u0661",
                "1.99999999999", f"v{MAJOR}.{MINOR}"]


def strict(kind: type[msgspec.Struct]) -> bool:
    """Whether ``kind`` is read strictly (a command): unknown fields refused."""
    return bool(kind.__struct_config__.forbid_unknown_fields)


# --- JSON values by kind ------------------------------------------------------------------

KINDS = ("null", "bool", "int", "float", "str", "array", "object")
_SIMPLE: dict[type, frozenset[str]] = {
    mi.NoneType: frozenset({"null"}), mi.BoolType: frozenset({"bool"}), mi.IntType: frozenset({"int"}),
    mi.FloatType: frozenset({"int", "float"}), mi.StrType: frozenset({"str"}), mi.DateTimeType: frozenset({"str"}),
    mi.ListType: frozenset({"array"}), mi.DictType: frozenset({"object"}), mi.StructType: frozenset({"object"}),
}


def accepted_kinds(t: mi.Type) -> frozenset[str]:
    """The JSON kinds a schema type can accept at all (a value of any other kind is always invalid)."""
    if isinstance(t, mi.UnionType):
        return frozenset().union(*(accepted_kinds(m) for m in t.types))
    if isinstance(t, mi.LiteralType):
        return frozenset("str" if isinstance(v, str) else "int" for v in t.values)
    return next((kinds for cls, kinds in _SIMPLE.items() if isinstance(t, cls)), frozenset(KINDS))


_text = st.text(max_size=12)
_leaf = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
         | st.floats(allow_nan=False, allow_infinity=False) | _text)
json_values = st.recursive(_leaf, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(_text, kids, max_size=3),
                           max_leaves=8)
_BY_KIND: dict[str, st.SearchStrategy[Doc]] = {
    "null": st.none(), "bool": st.booleans(), "int": st.integers(-(2**70), 2**70),
    "float": st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    "str": _text, "array": st.lists(json_values, max_size=3), "object": st.dictionaries(_text, json_values, max_size=3),
}

#: Raw JSON tokens spliced in where a value goes: not JSON at all, or numbers msgspec cannot hold.
RAW_TOKENS = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"01", b"0x10", b"+1", b".5", b"1.", b"-",
              b"tru", b"nul", b"'single'", b"undefined", b"\"unterminated"]
#: A valid-sized command whose error message, quoted by the validator and JSON-escaped again, would be about four
#: times its size: past the broker's packet limit, which once dropped the kiosk's connection in a loop.
AMPLIFIER = Broken(b'{"v":1,"action":"' + b"\\\\" * 32755 + b'"}', "amplifier", ["action: Invalid enum value"])
#: Byte sequences that are not UTF-8: lone continuation, overlong, surrogate, truncated, out of range.
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\x80", b"\xc0\xaf", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80",
            b"\xf8\x88\x80\x80\x80", b"abc\xe9def"]
BAD_DATETIMES = ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-31T09:00:00Z", "2026-11-24 09:00",
                 "2026-11-24T25:00:00Z", "24/11/2026", "1732410000", "2026-11-24T09:00:00+25:00", "T"]
_RAW = "@@RAW{}@@"


# --- walking a document along its schema --------------------------------------------------------


@dataclass(frozen=True)
class Spot:
    """A place in a document: where, its schema type, whether the field there is required, and how an error
    names the place (``calls[0].number``, ``site_name[...]``; empty for the whole document)."""

    path: Where
    type: mi.Type
    required: bool
    shown: str = ""
    declared: mi.Type | None = None  # the field's type before picking a union's member

    @property
    def at(self) -> str:
        """The start of an error about a value here, as ``decode`` words it."""
        return f"{self.shown}: " if self.shown else ""

    @property
    def within(self) -> list[str]:
        """How an error about a value here or inside it starts (``calls[0]: ``, ``calls[0].at: ``, ``calls[0][``)."""
        return [f"{self.shown}{end}" for end in (": ", ".", "[")] if self.shown else []


def _member_for(value: Doc, t: mi.Type) -> mi.Type:
    """The member of a union that ``value`` is decoded as (object → struct/dict, array → list)."""
    if isinstance(t, mi.UnionType):
        for member in t.types:
            if isinstance(value, dict) and isinstance(member, mi.StructType | mi.DictType):
                return member
            if isinstance(value, list) and isinstance(member, mi.ListType):
                return member
            if isinstance(value, str) and isinstance(member, mi.LiteralType | mi.DateTimeType):
                return member
    return t


def spots(value: Doc, t: mi.Type, path: Where = (), required: bool = True, shown: str = "") -> Iterator[Spot]:
    """Every place in ``value`` (first two items of lists and dicts), with the type the schema gives it."""
    declared, t = t, _member_for(value, t)
    yield Spot(path, t, required, shown, declared)
    if isinstance(t, mi.StructType) and isinstance(value, dict):
        for f in t.fields:
            if f.encode_name in value:
                name = f"{shown}.{f.encode_name}" if shown else f.encode_name
                yield from spots(value[f.encode_name], f.type, (*path, f.encode_name), f.required, name)
    elif isinstance(t, mi.ListType) and isinstance(value, list):
        for i, item in enumerate(value[:2]):
            yield from spots(item, t.item_type, (*path, i), True, f"{shown}[{i}]")
    elif isinstance(t, mi.DictType) and isinstance(value, dict):
        for key in list(value)[:2]:
            yield from spots(value[key], t.value_type, (*path, key), False, f"{shown}[...]")


def _with(doc: Doc, path: Where, value: Doc | None, *, delete: bool = False) -> Doc:
    if not path:
        return value
    new = copy.deepcopy(doc)
    parent = new
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return new


def to_bytes(doc: Doc, raw: Sequence[bytes] = (), ascii_only: bool = False) -> bytes:
    """JSON bytes of ``doc``, with each ``_RAW`` marker string replaced by its raw bytes."""
    out = json.dumps(doc, ensure_ascii=ascii_only).encode()
    for i, chunk in enumerate(raw):
        out = out.replace(json.dumps(_RAW.format(i)).encode(), chunk)
    return out


# --- mutations of one field ------------------------------------------------------------------


@st.composite
def field_mutation(draw: st.DrawFn, kind: type[msgspec.Struct], bases: Sequence[Doc]) -> Broken:
    """A valid document of ``kind`` broken in one place, the place and the way drawn."""
    doc = draw(st.sampled_from(bases))
    places = [s for s in spots(doc, mi.type_info(kind)) if s.path]
    objects = [s for s in spots(doc, mi.type_info(kind)) if isinstance(s.type, mi.StructType)]
    hows = ["wrong_kind", "drop", "bad_value", "huge", "nested", "bad_utf8", "raw_token"]
    how = draw(st.sampled_from([*hows, "unknown_field"] if strict(kind) else hows))
    ascii_only = draw(st.booleans())
    if how == "drop":  # a required field mostly; an optional one is invalid only in some commands
        keyed = [s for s in places if isinstance(s.path[-1], str)]
        spot = draw(st.sampled_from([s for s in keyed if s.required] or keyed))
        payload = to_bytes(_with(doc, spot.path, None, delete=True), ascii_only=ascii_only)
        parent = spot.shown.rpartition(".")[0] if "." in spot.shown else ""
        if spot.required:
            missing = f"missing required field `{spot.path[-1]}`"
            return Broken(payload, how, [f"{parent}: Object {missing}" if parent else f"Object {missing}"])
        return Broken(payload, how, [f"'{spot.path[-1]}'"], surely=False)  # e.g. "'transfer' needs the target 'category'"
    if how == "bad_utf8":  # inside a string the schema expects, so the decoder has to read its bytes
        spot = draw(st.sampled_from([s for s in places if "str" in accepted_kinds(s.type)] or places))
        text = b'"' + draw(st.sampled_from(BAD_UTF8)) + b'"'
        return Broken(to_bytes(_with(doc, spot.path, _RAW.format(0)), [text], ascii_only), how,
                      ["UTF-8", *spot.within])
    spot = draw(st.sampled_from(places))
    if how == "unknown_field":
        at = draw(st.sampled_from(objects))
        names = {f.encode_name for f in at.type.fields}  # type: ignore[attr-defined]
        key = draw(_text.filter(lambda k: k not in names))
        target = _with(doc, (*at.path, key), draw(json_values))
        return Broken(to_bytes(target, ascii_only=ascii_only), how, [f"{at.at}Object contains unknown field `{key}`"])
    if how == "bad_value":
        value = _bad_value(draw, spot)
        if value is not None:
            said = VERSION_SAID if spot.path == ("v",) else spot.at
            return Broken(to_bytes(_with(doc, spot.path, value), ascii_only=ascii_only), how, [said])
    if how == "huge":  # too long only where something limits it (a list of choices, a date, a notice's length)
        size = draw(st.integers(1_000, MAX_PAYLOAD_BYTES - 4_000))
        char = draw(st.sampled_from(["x", "é", "漢", "\U0001f600", "\\", "\"", "\u0000"]))
        width = len(json.dumps(char, ensure_ascii=ascii_only).encode()) - 2
        return Broken(to_bytes(_with(doc, spot.path, char * (size // width)), ascii_only=ascii_only), how,
                      [*spot.within, f"{spot.path[-1]} is", VERSION_SAID], surely=False)
    if how == "nested":  # where a list goes, nested lists may still be valid a few levels down
        depth = draw(st.integers(2, 3_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'[{"x":', b"}]")]))
        junk = opener * depth + b"1" + closer * depth
        return Broken(to_bytes(_with(doc, spot.path, _RAW.format(0)), [junk], ascii_only), how,
                      [*spot.within, NOT_JSON, TOO_DEEP], surely=False)
    if how == "raw_token":  # 1e400 is a number some fields take
        token = draw(st.sampled_from(RAW_TOKENS))
        return Broken(to_bytes(_with(doc, spot.path, _RAW.format(0)), [token], ascii_only), how,
                      [NOT_JSON, *spot.within], surely=False)
    wrong = sorted(set(KINDS) - accepted_kinds(spot.declared or spot.type))
    if not wrong:  # this place takes any JSON: nest a struct-breaking value one level up instead
        return Broken(to_bytes(_with(doc, (), draw(_BY_KIND["array"]))), "wrong_kind", ["Expected `object`, got `array`"])
    value = draw(st.sampled_from(wrong).flatmap(lambda k: _BY_KIND[k]))
    return Broken(to_bytes(_with(doc, spot.path, value), ascii_only=ascii_only), "wrong_kind", [f"{spot.at}Expected"])


def _bad_value(draw: st.DrawFn, spot: Spot) -> Doc | None:
    """A value of the right JSON kind that the schema still refuses, where the type has such values."""
    t = spot.type
    if isinstance(t, mi.LiteralType):
        values = set(t.values)
        return draw(st.sampled_from([*(v.upper() for v in values if isinstance(v, str)), *(f" {v}" for v in values),
                                     "", "nxt", "Next"]).filter(lambda v: v not in values) | _text.filter(
            lambda v: v not in values))
    if isinstance(t, mi.DateTimeType):
        return draw(st.sampled_from(BAD_DATETIMES))
    if spot.path == ("v",):
        return draw(st.integers(-(2**70), 2**70).filter(lambda v: v != 1) | st.sampled_from(BAD_VERSIONS))
    return None


# --- whole-message breakage ----------------------------------------------------------------------


@st.composite
def message_breakage(draw: st.DrawFn, kind: type[msgspec.Struct], bases: Sequence[Doc], empty_is_bad: bool) -> Broken:
    """A payload broken as a whole: not JSON, cut short, not an object, wrong version, too deep, too big."""
    valid = to_bytes(draw(st.sampled_from(bases)))
    how = draw(st.sampled_from(["binary", "truncated", "trailing", "leading", "not_object", "version", "deep",
                                "oversize", "empty", "bad_utf8_raw"]))
    if how == "binary":  # random bytes: now and then a JSON value, never a valid message
        return Broken(draw(st.binary(min_size=1, max_size=80)), how, [kind.__name__])
    if how == "truncated":
        return Broken(valid[: draw(st.integers(1, len(valid) - 1))], how, [NOT_JSON])
    if how == "trailing":
        return Broken(valid + draw(st.sampled_from([b"x", b"}", b",", b"{}", b"\x00", b"\xff", b"\n{}"])), how,
                      [NOT_JSON])
    if how == "leading":
        return Broken(draw(st.sampled_from([b"\xef\xbb\xbf", b"x", b"[", b"\x00", b"//c\n"])) + valid, how,
                      [NOT_JSON, "Expected `object`, got `array`"])  # read as far as the '['

    if how == "not_object":
        return Broken(to_bytes(draw(json_values.filter(lambda v: not isinstance(v, dict)))), how,
                      ["Expected `object`, got"])
    if how == "version":
        v = draw(st.integers(-(2**70), 2**70).filter(lambda v: v != 1) | st.sampled_from(
            [*BAD_VERSIONS, 1.0, 1.5, True, None, [1], {"v": 1}, {"v": "1.1"}]))
        return Broken(to_bytes({**json.loads(valid), "v": v}), how, [VERSION_SAID, "v: "])
    if how == "deep":
        depth = draw(st.integers(1, MAX_PAYLOAD_BYTES // 2 - 10))
        opener = draw(st.sampled_from([b"[", b'{"v":']))
        closed = draw(st.booleans())
        payload = (opener * depth + (b"1" + b"]" * depth if closed else b""))[:MAX_PAYLOAD_BYTES]
        return Broken(payload, how, [NOT_JSON, "Expected `object`, got `array`", "v: Expected `int", TOO_DEEP])
    if how == "oversize":
        size = draw(st.integers(MAX_PAYLOAD_BYTES + 1, OVERSIZE_MAX))
        return Broken(valid[:-1] + b" " * (size - len(valid)) + b"}", how, [f"the limit is {MAX_PAYLOAD_BYTES}"])
    if how == "empty" and empty_is_bad:
        return Broken(b"", how, [NOT_JSON])
    at = draw(st.sampled_from([1, 2]))  # before the first key, or inside it
    return Broken(valid[:at] + draw(st.sampled_from(BAD_UTF8)) + valid[at:], "bad_utf8_raw", [NOT_JSON])


def bad_payloads(kind: type[msgspec.Struct], bases: Sequence[Doc], *, empty_is_bad: bool = True,
                 ) -> st.SearchStrategy[Broken]:
    """Payloads meant to fail validation as ``kind``, each with what was broken (see ``bad_case``)."""
    for base in bases:
        decode(to_bytes(base), kind)  # the bases themselves must be valid
    return field_mutation(kind, bases) | message_breakage(kind, bases, empty_is_bad)


def _topic_char(c: str) -> bool:
    """Mosquitto drops a client whose topic has a control character or a Unicode non-character."""
    cp = ord(c)
    return not (cp <= 0x1F or 0x7F <= cp <= 0x9F or 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE)


def safe_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text that can be a topic level: no '/', wildcards, control characters, surrogates or non-characters."""
    chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/+#").filter(_topic_char)
    return st.text(chars, max_size=max_size)


# --- valid documents to start from -------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)


def iso(at: dt.datetime) -> str:
    return at.isoformat()


def sample_board(serving: dict[int, str | None] | None = None, *, site_id: str = SITE.site.id,
                 call_ids: Sequence[int] = (2, 1), updated_at: dt.datetime = T0) -> BoardState:
    """A board state for the example site: counters 1-6, its categories, two calls to counter 4."""
    serving = serving or {4: "C002"}
    counters = [CounterView(id=c.id, name=dict(c.name), state="open" if c.id in serving else "closed",
                            categories=list(c.categories), serving=serving.get(c.id)) for c in SITE.counters]
    categories = [CategoryView(id=c.id, prefix=c.prefix, name=dict(c.name), waiting=i % 3, est_wait_min=4.5 * i,
                               available=True) for i, c in enumerate(SITE.categories)]
    calls = [CallView(call_id=cid, number=f"C{cid:03d}", counter=4, category="death",
                      at=T0 - dt.timedelta(minutes=cid)) for cid in call_ids]
    return BoardState(site=site_id, site_name=dict(SITE.site.name), languages=list(SITE.site.languages),
                      updated_at=updated_at, counters=counters, categories=categories, calls=calls)


def doc_of(message: msgspec.Struct) -> Doc:
    return json.loads(encode(message))


COUNTER_COMMANDS: list[Doc] = [
    {"v": 1, "action": "next"},
    {"v": 1, "action": "transfer", "category": "birth", "sent_at": "2026-11-24T09:00:00+08:00"},
    {"v": 1, "action": "feedback", "rating": "very_good", "sent_at": "2026-11-24T01:00:00Z"},
    {"action": "pause", "category": None, "rating": None, "sent_at": None},
]
TECH_COMMANDS: list[Doc] = [
    {"v": 1, "action": "ping"},
    {"v": 1, "action": "volume", "volume": 0.5},
    {"v": 1, "action": "snapshot", "path": "/tmp/giliran-badinput.png"},
]
BOARDS: list[Doc] = [doc_of(sample_board())]
NOTICES: list[Doc] = [{"v": 1, "text": "Kaunter 5 ditutup", "until": "2026-11-24T10:00:00+08:00"},
                      {"text": "Counter 5 is closed"}]
STATUSES: list[Doc] = [doc_of(NodeStatus(node="kiosk", state="online", role="kiosk", version="0.1.0",
                                         started_at=T0, details={"paper": "ok", "issued.mykad": 3, "uptime_s": 1.5,
                                                                 "printer_ok": True, "printer_message": None}))]


# --- capturing publishes in direct tests ------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    topic: str
    payload: bytes
    retain: bool
    correlation_data: bytes | None


class Outbox:
    """Stands in for ``MqttNode.publish`` when a test calls a node's handlers directly: keeps and acknowledges.

    Example::

        outbox = Outbox.capture(node.mqtt)
        node._on_board(incoming)
        outbox.take()      # [Sent(topic='.../event/error', ...)]
    """

    def __init__(self) -> None:
        self._sent: list[Sent] = []
        self._lock = threading.Lock()

    @classmethod
    def capture(cls, node: MqttNode) -> Outbox:
        outbox = cls()
        node.publish = outbox.publish  # type: ignore[method-assign]
        return outbox

    def publish(self, topic: str, message: msgspec.Struct | bytes, *, retain: bool = False,
                expiry_s: int | None = None, response_topic: str | None = None,
                correlation_data: bytes | None = None) -> PublishHandle:
        payload = message if isinstance(message, bytes) else encode(message)
        with self._lock:
            self._sent.append(Sent(topic, payload, retain, correlation_data))
        handle = PublishHandle(topic)
        handle._settle(None)
        return handle

    def take(self) -> list[Sent]:
        with self._lock:
            sent, self._sent = self._sent, []
        return sent


def incoming(topic: str, payload: bytes, correlation: bytes | None = None, response_topic: str | None = None,
             retain: bool = False) -> Incoming:
    return Incoming(topic=topic, payload=payload, retain=retain, response_topic=response_topic,
                    correlation_data=correlation)


# --- receiving through the broker ----------------------------------------------------------------------


class Inbox:
    """Messages a test client receives, by correlation data and by topic; waits on conditions, never sleeps."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.by_correlation: dict[bytes, Incoming] = {}
        self.by_topic: dict[str, list[Incoming]] = {}

    def __call__(self, msg: Incoming) -> None:
        with self._cond:
            if msg.correlation_data:
                self.by_correlation[msg.correlation_data] = msg
            self.by_topic.setdefault(msg.topic, []).append(msg)
            self._cond.notify_all()

    def reply(self, correlation: bytes, timeout: float = WAIT_S) -> Incoming:
        with self._cond:
            if not self._cond.wait_for(lambda: correlation in self.by_correlation, timeout):
                raise AssertionError(f"no reply with correlation {correlation!r} in {timeout} s")
            return self.by_correlation[correlation]

    def on(self, topic: str) -> list[Incoming]:
        with self._cond:
            return list(self.by_topic.get(topic, []))

    def wait_count(self, topic: str, count: int, timeout: float = WAIT_S) -> list[Incoming]:
        """The messages on ``topic`` once there are at least ``count``; AssertionError after ``timeout``."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.by_topic.get(topic, [])) >= count, timeout):
                raise AssertionError(f"{len(self.by_topic.get(topic, []))} messages on {topic}, not {count},"
                                     f" in {timeout} s")
            return list(self.by_topic[topic])

    def wait_for(self, topic: str, predicate: Callable[[Incoming], bool], timeout: float = WAIT_S) -> Incoming:
        """The first message on ``topic`` matching ``predicate``; AssertionError after ``timeout``."""
        found: list[Incoming] = []

        def seen() -> bool:
            found[:] = [m for m in self.by_topic.get(topic, []) if predicate(m)][:1]
            return bool(found)

        with self._cond:
            if not self._cond.wait_for(seen, timeout):
                raise AssertionError(f"no matching message on {topic} in {timeout} s")
            return found[0]


class HandlerFailures(logging.Handler):
    """Catches what MqttNode logs when a node's handler raised (it logs and carries on, so nothing else shows)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "handler for" in str(record.msg):
            self.failures.append(record.getMessage() + (f": {record.exc_info[1]!r}" if record.exc_info else ""))

    @classmethod
    @contextmanager
    def watching(cls) -> Iterator[HandlerFailures]:
        watcher = cls()
        logger = logging.getLogger("giliran.mqtt")
        logger.addHandler(watcher)
        try:
            yield watcher
        finally:
            logger.removeHandler(watcher)


# --- the tally --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Cases run in this session, by node and path; crashes and state changes seen (each also fails its test,
    and Hypothesis may count one bug several times while it shrinks it)."""

    cases: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    state_changes: int = 0

    def count(self, target: str, via: str) -> None:
        self.cases[f"{target} ({via})"] += 1

    def total(self, via: str | None = None) -> int:
        return sum(n for key, n in self.cases.items() if via is None or key.endswith(f"({via})"))

    def summary(self) -> str:
        acl = sum(n for key, n in self.cases.items() if key.startswith("acl:"))
        payloads = self.total() - acl
        return (f"bad input: {payloads:,} cases ({self.total('direct'):,} direct to handlers, "
                f"{self.total('broker') - acl:,} through the broker), {self.crashes} crashes, "
                f"{self.state_changes} state changes; {acl:,} ACL checks")


TALLY = Tally()


# --- the steps of a case, shared by every node's tests -------------------------------------------------------


def bad_case(payload: Broken, kind: type[msgspec.Struct], target: str, via: str) -> str:
    """The problem ``decode`` finds in ``payload`` as ``kind``, the case counted in the tally. The problem must
    name what the generator broke; a payload a breakage may leave valid is no case (Hypothesis draws another)."""
    problem = problem_of(payload, kind)
    if payload.surely:
        assert problem is not None, f"{payload.how} left a valid {kind.__name__}: {bytes(payload[:200])!r}"
    assume(problem is not None)
    assert problem is not None
    assert any(name in problem for name in payload.names), \
        f"{payload.how}: the error {problem!r} names none of {payload.names}"
    TALLY.count(target, via)
    return problem


@contextmanager
def crash_counted(kind: type[BaseException] = Exception) -> Iterator[None]:
    """Counts a ``kind`` raised in the block as a crash in the tally, and lets it go on."""
    try:
        yield
    except kind:
        TALLY.crashes += 1
        raise


def call(handler: Callable[[Incoming], object], msg: Incoming) -> None:
    """A node's handler called as its network thread would; an exception out of it is a crash."""
    with crash_counted():
        handler(msg)


@contextmanager
def unchanged_state(read: Callable[[], object], what: str, *, detail: bool = True) -> Iterator[None]:
    """Fails when ``read()`` gives another value after the block than before it (a state change in the tally).
    ``what`` names the state in the failure; ``detail`` adds both values."""
    before = read()
    yield
    after = read()
    if after != before:
        TALLY.state_changes += 1
    assert after == before, f"{what} changed: {before} -> {after}" if detail else f"{what} changed"


def check_error_event(payload: bytes, node_id: str, problem: str, topic: str) -> None:
    """``payload`` is ``node_id``'s ``bad_payload`` event naming ``problem`` in a message on ``topic``."""
    event = decode(payload, ErrorEvent)
    assert (event.node, event.code, event.message, event.topic) == (node_id, "bad_payload", problem, topic)


def check_bad_state(handler: Callable[[Incoming], object], outbox: Outbox, node_id: str, topic: str, payload: bytes,
                    problem: str, *, retain: bool) -> None:
    """A state payload that fails validation, handed to ``handler``: one ``bad_payload`` event and nothing else."""
    call(handler, incoming(topic, payload, retain=retain))
    sent = outbox.take()
    assert [s.topic for s in sent] == [TOPICS.event("error")]
    check_error_event(sent[0].payload, node_id, problem, topic)


def check_bad_tech(handler: Callable[[Incoming], object], outbox: Outbox, node_id: str, payload: bytes,
                   problem: str) -> None:
    """A technician command that fails validation, handed to ``handler``: the ``bad_payload`` event, then a failed
    TechReply with the same problem and the command's correlation data."""
    topic, reply_topic = TOPICS.node_cmd(node_id), TOPICS.node_reply(node_id)
    call(handler, incoming(topic, payload, b"t", reply_topic))
    sent = outbox.take()
    assert [s.topic for s in sent] == [TOPICS.event("error"), reply_topic]
    check_error_event(sent[0].payload, node_id, problem, topic)
    reply = decode(sent[1].payload, TechReply)
    assert (reply.ok, reply.node, reply.message, sent[1].correlation_data) == (False, node_id, problem, b"t")


# --- a node on the test broker, watched by the technician ----------------------------------------------------


class OnBroker:
    """A node under test on the broker, and the technician's client that sends to it and watches what it says:
    ``event/error``, the node's TechReplies, and ``also``. ``expected`` holds (message, topic) of every
    ``bad_payload`` event the checks below have seen the node owe, in order."""

    def __init__(self, connect: Callable[[str, str], MqttNode], node_id: str, *also: str) -> None:
        self.node_id = node_id
        self.tech = connect("technician", "technician")
        self.inbox = Inbox()
        for topic in (*also, TOPICS.event("error"), TOPICS.node_reply(node_id)):
            self.tech.subscribe(topic, self.inbox)
        self.expected: list[tuple[str, str]] = []
        self._ids = itertools.count()

    def send(self, topic: str, payload: bytes, response_topic: str) -> Incoming:
        """Publish as the technician and wait for the reply with this send's correlation data (none is a crash)."""
        correlation = f"case-{next(self._ids)}".encode()
        self.tech.publish(topic, payload, response_topic=response_topic, correlation_data=correlation).wait(WAIT_S)
        with crash_counted(AssertionError):
            reply = self.inbox.reply(correlation)
        return reply

    def errors(self) -> list[ErrorEvent]:
        return [decode(m.payload, ErrorEvent) for m in self.inbox.on(TOPICS.event("error"))]

    def check_bad_state(self, sender: MqttNode, topic: str, payload: bytes, problem: str) -> None:
        """A state payload that fails validation, published by ``sender``: the node's next event names the problem
        (no event is a crash)."""
        sender.publish(topic, payload).wait(WAIT_S)
        self.expected.append((problem, topic))
        with crash_counted(AssertionError):
            self.inbox.wait_count(TOPICS.event("error"), len(self.expected))
        assert [(e.message, e.topic) for e in self.errors()] == self.expected

    def check_bad_tech(self, payload: bytes, problem: str) -> None:
        """A technician command that fails validation: a failed TechReply naming the problem, and the event before it
        (one connection, so it is here already)."""
        topic = TOPICS.node_cmd(self.node_id)
        reply = decode(self.send(topic, payload, TOPICS.node_reply(self.node_id)).payload, TechReply)
        self.expected.append((problem, topic))
        assert (reply.ok, reply.message) == (False, problem)
        assert [(e.message, e.topic) for e in self.errors()] == self.expected
