"""One root exception for the project; subclasses also inherit the built-in kind."""

from __future__ import annotations


class GiliranError(Exception):
    """Root of every error Giliran raises on purpose."""


class ConfigError(GiliranError, ValueError):
    """A site file that cannot be used. Lists every problem, each naming its key."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class LedgerError(GiliranError, RuntimeError):
    """A queue action that the rules refuse; ``code`` is stable for MQTT replies."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class ProtocolError(GiliranError, ValueError):
    """An MQTT payload that failed validation; the message names the problem."""


class PublishRefused(GiliranError, RuntimeError):
    """The broker refused a publish (e.g. reason code 135, not authorized)."""
