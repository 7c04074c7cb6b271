"""Files and payloads into typed structs, with messages that name the key first: ``categories[0].prefix: ...``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

import msgspec

from giliran.errors import ConfigError

T = TypeVar("T")


def describe(exc: msgspec.ValidationError) -> str:
    """Turn "Expected `int`, got `str` - at `$.quota`" into "quota: Expected `int`, got `str`"."""
    message, sep, where = str(exc).rpartition(" - at `")
    if not sep:
        return str(exc)
    path = where.rstrip("`").removeprefix("$").lstrip(".")
    return f"{path}: {message}" if path else message


def load_toml(path: Path, kind: type[T]) -> T:
    """Read a TOML file into ``kind``; ConfigError naming the file and the key on any problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return msgspec.convert(raw, kind)
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["the file is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    except msgspec.ValidationError as exc:
        raise ConfigError(str(path), [describe(exc)]) from None
