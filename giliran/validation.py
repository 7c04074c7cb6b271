"""msgspec's validation messages, reworded to name the key first: ``categories[0].prefix: ...``."""

from __future__ import annotations

import msgspec


def describe(exc: msgspec.ValidationError) -> str:
    """Turn "Expected `int`, got `str` - at `$.quota`" into "quota: Expected `int`, got `str`"."""
    message, sep, where = str(exc).rpartition(" - at `")
    if not sep:
        return str(exc)
    path = where.rstrip("`").removeprefix("$").lstrip(".")
    return f"{path}: {message}" if path else message
