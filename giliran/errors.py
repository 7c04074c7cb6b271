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


class NotInSite(GiliranError, LookupError):
    """A node started with an id its site file does not have (``--id 99``).

    A configuration mistake that a restart cannot mend: the command line exits with
    the bad-configuration status (2), which the systemd units do not restart on.
    """


class MissingDependency(GiliranError, RuntimeError):
    """This machine lacks a library or device the node needs (lgpio, a GPIO chip...).

    Restarting cannot fix it, so the command line exits with its own status (3)
    and the systemd units do not restart on it (``RestartPreventExitStatus=``).
    The message names what is missing and, where there is one, the way out.
    """


class LedgerError(GiliranError, RuntimeError):
    """A queue action that the rules refuse; ``code`` is stable for MQTT replies.

    ``changed``: the refusal still changed the ledger (Next with nobody waiting
    opens the counter), so the boards must be told.
    """

    def __init__(self, code: str, message: str, *, changed: bool = False) -> None:
        self.code = code
        self.changed = changed
        super().__init__(message)


class StorageFault(LedgerError):
    """The ledger's disk failed a read or write: full, read-only, an I/O error, or a file that cannot be opened.

    ``code`` is ``ledger_`` + ``problem`` (e.g. ``ledger_disk_full``), stable for
    counter replies and error events; ``problem`` is the kiosk's status field.
    The message names the file and what a technician should check.
    """

    def __init__(self, problem: str, message: str) -> None:
        self.problem = problem
        super().__init__(f"ledger_{problem}", message)


class ProtocolError(GiliranError, ValueError):
    """An MQTT payload that failed validation; the message names the problem."""


class PublishRefused(GiliranError, RuntimeError):
    """The broker refused a publish (e.g. reason code 135, not authorized)."""


class VoicePackError(GiliranError, ValueError):
    """A voice pack that cannot be used: a bad manifest key, a missing or malformed clip.

    Lists every problem at once, each naming the key or the clip, so whoever
    records a pack fixes it in one go.
    """

    def __init__(self, pack: str, problems: list[str]) -> None:
        self.pack = pack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"voice pack {pack}: {len(problems)} problem(s)\n{lines}")


class AudioError(GiliranError, RuntimeError):
    """Sound that cannot be made or played: espeak-ng missing or failing, no mixer."""


class PrinterFault(GiliranError, RuntimeError):
    """The ticket printer cannot print, or a ticket may not have come out.

    ``code`` is stable for MQTT events and the kiosk's decision to void a ticket:
    paper_out, cover_open, cutter_error, printer_error, no_answer, disconnected,
    timeout. The message says what a technician should look at.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class TlsError(GiliranError, RuntimeError):
    """Certificates that cannot be made or used: openssl missing or failing, a file absent.

    The message names the file or the openssl command and what it said.
    """
