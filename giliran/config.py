"""The site file: one TOML document that describes a whole counter hall.

Loaded and validated once when a node starts. Validation runs in two stages,
as in flyte/mqtt-io: the schema (types, unknown keys) and then the
cross-references (counters serve categories that exist, pins are not shared,
every name has every language...). The second stage collects *all* problems,
so a technician fixes the file in one go. Every message names the key.

Example::

    site = load_site(Path("examples/site.toml"))
    site.category("mykad").prefix   # 'A'
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from giliran.errors import ConfigError
from giliran.validation import describe

log = logging.getLogger(__name__)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PinNumber = int


class _Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every config section: immutable, unknown keys are errors."""


@functools.lru_cache(maxsize=64)
def parse_clock(text: str) -> dt.time:
    try:
        return dt.datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day; write it as HH:MM, e.g. '08:00'") from None


class Hours(_Struct, frozen=True):
    """Opening hours. ``close`` before ``open`` means the hall closes after midnight."""

    open: str = "08:00"
    close: str = "17:00"
    days: list[Weekday] = msgspec.field(
        default_factory=lambda: list(WEEKDAYS[:5])
    )

    def __post_init__(self) -> None:
        parse_clock(self.open)
        parse_clock(self.close)
        if self.open == self.close:
            raise ValueError("open and close are the same time")

    @property
    def opens(self) -> dt.time:
        return parse_clock(self.open)

    @property
    def closes(self) -> dt.time:
        return parse_clock(self.close)

    def is_open(self, local: dt.datetime) -> bool:
        """Whether the hall is open at a local wall-clock time."""
        t = local.time()
        if self.opens < self.closes:
            return WEEKDAYS[local.weekday()] in self.days and self.opens <= t < self.closes
        # Spans midnight: the part after midnight belongs to the previous day's opening.
        if t >= self.opens:
            return WEEKDAYS[local.weekday()] in self.days
        if t < self.closes:
            return WEEKDAYS[(local.weekday() - 1) % 7] in self.days
        return False


class Site(_Struct, frozen=True):
    id: str
    name: dict[str, str]
    languages: list[str] = msgspec.field(default_factory=lambda: ["ms", "en"])
    timezone: str = "Asia/Kuala_Lumpur"
    ledger: str = "var/ledger.sqlite"

    def __post_init__(self) -> None:
        if not self.id or not self.id.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"id {self.id!r} must be letters, digits, '-' or '_' (it is an MQTT topic level)")
        if not self.languages:
            raise ValueError("languages is empty; name at least one, e.g. ['ms', 'en']")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not a known IANA zone, e.g. 'Asia/Kuala_Lumpur'") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Calling(_Struct, frozen=True):
    """Site-wide calling-rule settings (see giliran.rules)."""

    command_expiry_s: int = 10
    service_time_window: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.command_expiry_s <= 3600:
            raise ValueError("command_expiry_s must be between 1 and 3600 seconds")
        if not 1 <= self.service_time_window <= 1000:
            raise ValueError("service_time_window must be between 1 and 1000 tickets")


class Category(_Struct, frozen=True):
    """A service customers queue for, with its own prefix letter and numbering."""

    id: str
    prefix: str
    name: dict[str, str]
    weight: int = 1
    max_wait_min: int = 60
    quota: int | None = None
    service_min: float = 5.0
    button_pin: PinNumber | None = None
    lamp_pin: PinNumber | None = None
    hours: Hours | None = None

    def __post_init__(self) -> None:
        if len(self.prefix) != 1 or not self.prefix.isascii() or not self.prefix.isupper():
            raise ValueError(f"prefix {self.prefix!r} must be one capital letter A-Z")
        if not 1 <= self.weight <= 100:
            raise ValueError("weight must be between 1 and 100")
        if not 1 <= self.max_wait_min <= 24 * 60:
            raise ValueError("max_wait_min must be between 1 and 1440 minutes")
        if self.quota is not None and not 1 <= self.quota <= 999:
            raise ValueError("quota must be between 1 and 999 (numbers have three digits)")
        if not 0.1 <= self.service_min <= 240:
            raise ValueError("service_min must be between 0.1 and 240 minutes")


class Keypad(_Struct, frozen=True):
    next: PinNumber | None = None
    recall: PinNumber | None = None
    no_show: PinNumber | None = None
    done: PinNumber | None = None
    transfer: PinNumber | None = None
    pause: PinNumber | None = None

    def pins(self) -> dict[str, PinNumber]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}


class FeedbackButtons(_Struct, frozen=True):
    very_good: PinNumber | None = None
    good: PinNumber | None = None
    poor: PinNumber | None = None

    def pins(self) -> dict[str, PinNumber]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}


class SerialDisplay(_Struct, frozen=True):
    """A counter's LED number board on a serial line; see docs/COUNTER.md."""

    port: str
    baudrate: int = 9600
    template: str = "{number:>4} {counter:>2}\r\n"

    def __post_init__(self) -> None:
        if self.baudrate not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
            raise ValueError(f"baudrate {self.baudrate} is not a standard rate")
        try:
            self.template.format(number="A001", counter=1, name="Kaunter 1", text="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template {self.template!r}: {exc!r}; fields are number, counter, name, text") from None


class Counter(_Struct, frozen=True):
    id: int
    name: dict[str, str]
    categories: list[str]
    transfer_to: list[str] = msgspec.field(default_factory=list)
    keypad: Keypad = msgspec.field(default_factory=Keypad)
    feedback: FeedbackButtons = msgspec.field(default_factory=FeedbackButtons)
    serial_display: SerialDisplay | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.id <= 999:
            raise ValueError("id must be between 1 and 999")
        if not self.categories:
            raise ValueError("categories is empty; a counter serves at least one category")


class RosterShift(_Struct, frozen=True):
    """When a counter is expected to be staffed, on the ``days`` given: the estimated wait plans with it.

    Counters without a shift here are planned from the event log (the same weekday of recent weeks).
    """

    counter: int
    open: str
    close: str
    breaks: list[tuple[str, str]] = msgspec.field(default_factory=list)
    days: list[Weekday] = msgspec.field(default_factory=lambda: list(WEEKDAYS))

    def __post_init__(self) -> None:
        if parse_clock(self.close) <= parse_clock(self.open):
            raise ValueError(f"close {self.close!r} must be after open {self.open!r}")
        for start, end in self.breaks:
            if not parse_clock(self.open) <= parse_clock(start) < parse_clock(end) <= parse_clock(self.close):
                raise ValueError(f"break [{start!r}, {end!r}] must lie within {self.open}-{self.close}")


class UsbConnection(_Struct, frozen=True):
    vendor_id: int
    product_id: int


class SerialConnection(_Struct, frozen=True):
    device: str
    baudrate: int = 9600


class NetworkConnection(_Struct, frozen=True):
    host: str
    port: int = 9100


class FileConnection(_Struct, frozen=True):
    path: str


class Printer(_Struct, frozen=True):
    """The ticket printer. ``connection`` has no default: a kiosk must not print into the
    simulator's memory, and report a healthy printer, because a site file forgot it."""

    connection: Literal["sim", "usb", "serial", "network", "file"] | None = None
    paper_mm: Literal[58, 80] = 80
    profile: str = "TM-T20II"
    timeout_s: float = 2.0
    usb: UsbConnection | None = None
    serial: SerialConnection | None = None
    network: NetworkConnection | None = None
    file: FileConnection | None = None
    logo: str | None = None
    qr_url: str | None = None
    footer: dict[str, str] = msgspec.field(default_factory=dict)
    closed_slip: bool = True

    def __post_init__(self) -> None:
        if self.connection not in (None, "sim") and getattr(self, self.connection) is None:
            raise ValueError(f"connection is {self.connection!r} but there is no [printer.{self.connection}] table")
        if not 0.1 <= self.timeout_s <= 30:
            raise ValueError("timeout_s must be between 0.1 and 30 seconds")
        if self.qr_url is not None:
            try:
                self.qr_url.format(site="s", number="A001", category="c", date="2026-01-01")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"qr_url {self.qr_url!r}: {exc!r}; fields are site, number, category, date") from None


class Display(_Struct, frozen=True):
    id: str
    resolution: tuple[int, int] = (1920, 1080)
    orientation: Literal["landscape", "portrait"] = "landscape"
    counters: list[int] = msgspec.field(default_factory=list)
    pa: bool = False
    volume: float = 0.8
    theme: Literal["dark", "light", "high-contrast"] = "dark"
    flash_s: float = 10.0
    recent_calls: int = 6

    def __post_init__(self) -> None:
        w, h = self.resolution
        if not (320 <= w <= 7680 and 240 <= h <= 7680):
            raise ValueError(f"resolution {w}x{h} is out of range")
        if not 0.0 <= self.volume <= 1.0:
            raise ValueError("volume must be between 0.0 and 1.0")


class Kiosk(_Struct, frozen=True):
    cooldown_s: float = 2.0
    debounce_ms: int = 50
    pin_factory: Literal["lgpio", "rpigpio", "native", "mock"] = "lgpio"

    def __post_init__(self) -> None:
        if not 0 <= self.cooldown_s <= 60:
            raise ValueError("cooldown_s must be between 0 and 60 seconds")
        if not 0 <= self.debounce_ms <= 1000:
            raise ValueError("debounce_ms must be between 0 and 1000 ms")


class Broker(_Struct, frozen=True):
    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str | None = None
    credentials_dir: str = "/etc/giliran/credentials"
    keepalive_s: int = 15

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a TCP port")
        if self.tls and not self.ca_file:
            raise ValueError("tls is true but ca_file is not set")


class SiteConfig(_Struct, frozen=True):
    """The whole validated site file."""

    site: Site
    categories: list[Category]
    counters: list[Counter]
    hours: Hours = msgspec.field(default_factory=Hours)
    calling: Calling = msgspec.field(default_factory=Calling)
    printer: Printer = msgspec.field(default_factory=Printer)
    displays: list[Display] = msgspec.field(default_factory=list)
    kiosk: Kiosk = msgspec.field(default_factory=Kiosk)
    broker: Broker = msgspec.field(default_factory=Broker)
    roster: list[RosterShift] = msgspec.field(default_factory=list)

    def category(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)

    def counter(self, counter_id: int) -> Counter:
        for c in self.counters:
            if c.id == counter_id:
                return c
        raise KeyError(counter_id)

    def display(self, display_id: str) -> Display:
        for d in self.displays:
            if d.id == display_id:
                return d
        raise KeyError(display_id)

    def hours_of(self, category: Category) -> Hours:
        return category.hours or self.hours

    def counters_serving(self, category_id: str) -> list[Counter]:
        return [c for c in self.counters if category_id in c.categories]


def _cross_reference_problems(cfg: SiteConfig) -> Iterator[str]:
    """Stage two: everything the schema alone cannot see."""
    langs = cfg.site.languages
    yield from _missing_languages("site.name", cfg.site.name, langs)
    cat_ids: set[str] = set()
    prefixes: dict[str, int] = {}
    for i, cat in enumerate(cfg.categories):
        key = f"categories[{i}]"
        if cat.id in cat_ids:
            yield f"{key}.id: {cat.id!r} is used by another category"
        cat_ids.add(cat.id)
        if cat.prefix in prefixes:
            yield f"{key}.prefix: {cat.prefix!r} is already used by categories[{prefixes[cat.prefix]}]"
        prefixes.setdefault(cat.prefix, i)
        yield from _missing_languages(f"{key}.name", cat.name, langs)
    if not cfg.categories:
        yield "categories: the site has no categories; add at least one [[categories]] table"
    counter_ids: set[int] = set()
    for i, counter in enumerate(cfg.counters):
        key = f"counters[{i}]"
        if counter.id in counter_ids:
            yield f"{key}.id: counter {counter.id} is defined twice"
        counter_ids.add(counter.id)
        yield from _missing_languages(f"{key}.name", counter.name, langs)
        for field in ("categories", "transfer_to"):
            for j, cid in enumerate(getattr(counter, field)):
                if cid not in cat_ids:
                    yield f"{key}.{field}[{j}]: no category has id {cid!r}"
    if not cfg.counters:
        yield "counters: the site has no counters; add at least one [[counters]] table"
    for cat in cfg.categories:
        if cat.id in cat_ids and not cfg.counters_serving(cat.id) and cfg.counters:
            index = cfg.categories.index(cat)
            yield f"categories[{index}].id: no counter serves {cat.id!r}; its customers would wait forever"
    for i, shift in enumerate(cfg.roster):
        if shift.counter not in counter_ids:
            yield f"roster[{i}].counter: no counter has id {shift.counter}"
    display_ids: set[str] = set()
    pa_zones: list[tuple[str, set[int]]] = []
    for i, disp in enumerate(cfg.displays):
        key = f"displays[{i}]"
        if disp.id in display_ids:
            yield f"{key}.id: display {disp.id!r} is defined twice"
        display_ids.add(disp.id)
        for j, cid in enumerate(disp.counters):
            if cid not in counter_ids:
                yield f"{key}.counters[{j}]: no counter has id {cid}"
        zone = set(disp.counters) or counter_ids
        if disp.pa:
            for other, other_zone in pa_zones:
                if zone & other_zone:
                    shared = sorted(zone & other_zone)
                    yield f"{key}.pa: display {other!r} already announces counters {shared}; one PA per zone"
            pa_zones.append((disp.id, zone))
    if cfg.printer.connection is None:
        yield ('printer.connection: not set; name how the ticket printer is connected: "usb", "serial", '
               '"network" or "file" (with its table), or "sim" for the simulated printer')
    yield from _missing_languages("printer.footer", cfg.printer.footer, langs, optional=True)
    yield from _pin_clashes(cfg)


def _missing_languages(key: str, names: dict[str, str], langs: list[str], optional: bool = False) -> Iterator[str]:
    if optional and not names:
        return
    for lang in langs:
        if not names.get(lang, "").strip():
            yield f"{key}: no text for language {lang!r} (site.languages is {langs})"


def _pin_clashes(cfg: SiteConfig) -> Iterator[str]:
    """A pin wired to two things on the same node is a wiring error."""
    kiosk: dict[int, str] = {}
    for i, cat in enumerate(cfg.categories):
        for field in ("button_pin", "lamp_pin"):
            pin = getattr(cat, field)
            key = f"categories[{i}].{field}"
            if pin is None:
                continue
            if not 0 <= pin <= 27:
                yield f"{key}: GPIO{pin} does not exist on a Raspberry Pi header (0-27)"
            elif pin in kiosk:
                yield f"{key}: GPIO{pin} is already used by {kiosk[pin]}"
            kiosk.setdefault(pin, key)
    for i, counter in enumerate(cfg.counters):
        used: dict[int, str] = {}
        pins = [(f"keypad.{k}", p) for k, p in counter.keypad.pins().items()]
        pins += [(f"feedback.{k}", p) for k, p in counter.feedback.pins().items()]
        for field, pin in pins:
            key = f"counters[{i}].{field}"
            if not 0 <= pin <= 27:
                yield f"{key}: GPIO{pin} does not exist on a Raspberry Pi header (0-27)"
            elif pin in used:
                yield f"{key}: GPIO{pin} is already used by {used[pin]}"
            used.setdefault(pin, key)


def parse_site(text: str, source: str = "<site file>") -> SiteConfig:
    """Parse and validate a site file's text; raise ConfigError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    try:
        cfg = msgspec.convert(raw, SiteConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(source, [describe(exc)]) from None
    problems = list(_cross_reference_problems(cfg))
    if problems:
        raise ConfigError(source, problems)
    return cfg


def load_site(path: Path) -> SiteConfig:
    """Read a site file from disk; see parse_site."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["the file is not UTF-8 text"]) from None
    cfg = parse_site(text, str(path))
    log.info("loaded site %s from %s", cfg.site.id, path)
    return cfg
