"""What the number board shows for each reply, notice and board-state change."""

from __future__ import annotations

import pytest

from counter.screen import BUSY, Screen, transfer_line
from counter.serial_display import BLANK, Line
from giliran.protocol import CounterReply, ErrorInfo, TicketView, now_utc


class RecordingDisplay:
    """Keeps every line shown, for asserting what the board received."""

    error: str | None = None

    def __init__(self) -> None:
        self.lines: list[Line] = []

    def show(self, line: Line) -> None:
        self.lines.append(line)

    def tick(self) -> None:
        """Nothing to retry."""

    def close(self) -> None:
        """Nothing to close."""


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def ok(action: str, number: str | None = None) -> CounterReply:
    ticket = TicketView(number=number, category="mykad", state="called", issued_at=now_utc()) if number else None
    return CounterReply(ok=True, counter=3, action=action, ticket=ticket, waiting=0)


def refused(action: str, code: str) -> CounterReply:
    return CounterReply(ok=False, counter=3, action=action, error=ErrorInfo(code=code, message="..."))


@pytest.fixture
def screen() -> Screen:
    shown = Screen(RecordingDisplay(), Clock())
    shown.follow("open", None)
    return shown


def shown(screen: Screen) -> list[str]:
    return [line.number for line in screen.display.lines]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reply", "number"),
    [
        (ok("next", "A012"), "A012"),
        (ok("recall", "A012"), "A012"),
        (ok("done", "A012"), "----"),
        (ok("no_show", "A012"), "----"),
        (ok("transfer", "A012"), "----"),
        (ok("pause"), "PAUS"),
        (ok("open"), "----"),
        (ok("close"), ""),
        (refused("next", "nobody_waiting"), "----"),
        (refused("done", "not_serving"), "----"),
        (refused("next", "stale_command"), "ERR"),
    ],
)
def test_each_reply_has_its_line(screen: Screen, reply: CounterReply, number: str) -> None:
    screen.reply(reply)
    assert screen.line.number == number


def test_an_unknown_error_shows_err_with_its_code_as_text(screen: Screen) -> None:
    screen.reply(refused("next", "counter_on_fire"))
    assert screen.line == Line("ERR", "counter on fire")


def test_a_recall_resends_the_same_number_other_repeats_do_not(screen: Screen) -> None:
    screen.reply(ok("next", "A012"))
    screen.follow("open", "A012")
    screen.reply(ok("recall", "A012"))
    assert shown(screen) == ["----", "A012", "A012"]


def test_a_notice_covers_the_number_until_it_expires(screen: Screen) -> None:
    screen.reply(ok("next", "A012"))
    screen.notice(BUSY)
    screen.tick()
    assert screen.line == BUSY
    screen._clock.t += screen.notice_s  # type: ignore[attr-defined]
    screen.tick()
    assert shown(screen) == ["----", "A012", "BUSY", "A012"]


def test_a_dropped_notice_goes_only_if_it_is_still_shown(screen: Screen) -> None:
    screen.notice(transfer_line("B", "birth"))
    screen.drop_notice(transfer_line("K", "collect"))
    assert screen.line.number == "-> B"
    screen.drop_notice(transfer_line("B", "birth"))
    assert screen.line.number == "----"


def test_the_board_state_is_followed_only_when_this_counter_changes_there(screen: Screen) -> None:
    screen.reply(refused("next", "nobody_waiting"))  # a notice over "----"
    screen.follow("open", None)  # the same row again (another counter acted): nothing to do
    screen.follow("paused", None)  # someone paused this counter from the command line
    assert screen.state == "paused"
    assert screen.line.number == "----"  # the notice still covers it...
    screen._clock.t += screen.notice_s  # type: ignore[attr-defined]
    screen.tick()
    assert screen.line.number == "PAUS"  # ...until it expires


def test_a_new_screen_says_wait_and_a_stopping_one_blanks() -> None:
    screen = Screen(RecordingDisplay(), Clock())
    screen.start()
    screen.blank()
    assert screen.display.lines == [Line("WAIT", "starting"), BLANK]  # type: ignore[attr-defined]


def test_a_thousandth_ticket_fits_the_four_character_board(screen: Screen) -> None:
    """A1000 would push the default line "{number:>4} {counter:>2}" one column right; the board shows 1000."""
    from counter.serial_display import LineFormat
    from giliran.config import SerialDisplay

    fmt = LineFormat(SerialDisplay(port="loop://").template, counter=3, name="Kaunter 3")
    screen.reply(ok("next", "A999"))
    screen.reply(ok("next", "A1000"))
    screen.follow("open", "B1234")
    sent = [fmt.render(line) for line in screen.display.lines[-3:]]  # type: ignore[attr-defined]
    assert sent == [b"A999  3\r\n", b"1000  3\r\n", b"1234  3\r\n"]
