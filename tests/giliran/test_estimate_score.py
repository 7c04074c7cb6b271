"""The printed-wait score against constructed tickets, worked by hand."""

from __future__ import annotations

import pytest

from giliran.estimate_score import Band, Outcome, format_score, printed_minutes, score_outcomes, within

TICKETS = [
    Outcome(600, 540),     # prints 10, real 9: within; 10-19 band, bias +1
    Outcome(1190, 1500),   # prints 20 (19.8 to the nearest minute), real 25: exactly 5 off, within; bias -5
    Outcome(1800, 2820),   # prints 30, real 47: 17 off > max(5, 7.5); bias -17
    Outcome(30, 420),      # prints 1, real 7: 6 off > 5; bias -6
    Outcome(0, 0),         # prints 1 (at least one minute), real 0: within; bias +1
    Outcome(None, 300),    # called, but printed no minutes: not scored
    Outcome(300, None),    # never called
    Outcome(2400, 1800),   # prints 40, real 30: exactly 25 % off, within; bias +10
]


def test_printed_minutes_are_what_the_ticket_shows() -> None:
    assert [printed_minutes(s) for s in (0, 1, 60, 89, 90, 1190, None)] == [1, 1, 1, 1, 2, 20, None]


def test_the_band_is_five_minutes_or_a_quarter_whichever_is_wider() -> None:
    assert within(10, 15.0) and not within(10, 15.01)
    assert within(40, 50.0) and not within(40, 50.01) and within(40, 30.0)


def test_score_of_constructed_tickets() -> None:
    s = score_outcomes(TICKETS)
    assert (s.called, s.no_estimate, s.never_called) == (6, 1, 1)
    assert s.within == pytest.approx(4 / 6)
    assert s.bands == (
        Band("0-4 min", 2, 0.5, 3.5, -2.5),
        Band("5-9 min", 0, 1.0, 0.0, 0.0),
        Band("10-19 min", 1, 1.0, pytest.approx(1.0), pytest.approx(1.0)),  # type: ignore[arg-type]
        Band("20-29 min", 1, 1.0, 5.0, -5.0),
        Band("30+ min", 2, 0.5, 13.5, -3.5),
    )
    assert s.old_share == pytest.approx(2680 / 7380)  # |est - real| over the 7 called, / their mean wait


def test_pooling_is_scoring_the_days_together() -> None:
    day1, day2 = TICKETS[:3], TICKETS[3:]
    assert score_outcomes(day1 + day2) == score_outcomes(TICKETS)
    assert score_outcomes(day1).within == pytest.approx(2 / 3)
    assert score_outcomes([]).called == 0


def test_the_table_shows_the_main_figure_bands_and_the_old_figure() -> None:
    text = format_score(score_outcomes(TICKETS))
    assert "**66.7%** of 6 called tickets within ±max(5 min, 25%)" in text
    assert "old figure (MAE of the unrounded estimate / mean wait): 36.3%" in text
    assert "| 30+ min | 2 | 50.0% | 13.50 min | -3.50 min |" in text
    assert "5-9 min" not in text  # empty bands are left out
    assert "Never called (left, expired): 1; called with no minutes printed: 1" in text
