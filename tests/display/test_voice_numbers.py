"""Numbers as words: the number reading rules of ms, en and id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from display.number_words import MAX_NUMBER, digit_words, number_words, vocabulary


@pytest.mark.parametrize(
    ("n", "ms", "en", "id_"),
    [
        (0, "kosong", "zero", "nol"),
        (3, "tiga", "three", "tiga"),
        (8, "lapan", "eight", "delapan"),
        (10, "sepuluh", "ten", "sepuluh"),
        (11, "sebelas", "eleven", "sebelas"),
        (12, "dua belas", "twelve", "dua belas"),
        (19, "sembilan belas", "nineteen", "sembilan belas"),
        (20, "dua puluh", "twenty", "dua puluh"),
        (21, "dua puluh satu", "twenty one", "dua puluh satu"),
        (99, "sembilan puluh sembilan", "ninety nine", "sembilan puluh sembilan"),
        (100, "seratus", "one hundred", "seratus"),
        (102, "seratus dua", "one hundred and two", "seratus dua"),
        (110, "seratus sepuluh", "one hundred and ten", "seratus sepuluh"),
        (115, "seratus lima belas", "one hundred and fifteen", "seratus lima belas"),
        (200, "dua ratus", "two hundred", "dua ratus"),
        (348, "tiga ratus empat puluh lapan", "three hundred and forty eight",
         "tiga ratus empat puluh delapan"),
        (999, "sembilan ratus sembilan puluh sembilan", "nine hundred and ninety nine",
         "sembilan ratus sembilan puluh sembilan"),
        (1000, "seribu", "one thousand", "seribu"),
        (1005, "seribu lima", "one thousand and five", "seribu lima"),
        (2340, "dua ribu tiga ratus empat puluh", "two thousand three hundred and forty",
         "dua ribu tiga ratus empat puluh"),
    ],
)
def test_numbers_read_as_numbers(n: int, ms: str, en: str, id_: str) -> None:
    assert number_words(n, "ms") == ms.split()
    assert number_words(n, "en") == en.split()
    assert number_words(n, "id") == id_.split()


def test_digits_read_one_by_one_with_each_languages_zero() -> None:
    assert digit_words("102", "ms") == ["satu", "kosong", "dua"]
    assert digit_words("102", "en") == ["one", "zero", "two"]
    assert digit_words("102", "id") == ["satu", "nol", "dua"]
    assert digit_words("008", "id") == ["nol", "nol", "delapan"]


@given(st.integers(0, MAX_NUMBER), st.sampled_from(["ms", "en", "id"]))
def test_every_number_is_said_with_words_a_pack_has(n: int, lang: str) -> None:
    words = number_words(n, lang)
    assert words
    assert set(words) <= vocabulary(lang)
    # Zero is only ever said for zero itself: "seratus dua", not "seratus kosong dua".
    assert (digit_words("0", lang)[0] in words) == (n == 0)


@given(st.integers(0, MAX_NUMBER), st.integers(0, MAX_NUMBER),
       st.sampled_from(["ms", "en", "id"]))
def test_different_numbers_sound_different(a: int, b: int, lang: str) -> None:
    assert (number_words(a, lang) == number_words(b, lang)) == (a == b)


def test_out_of_range_and_unknown_language_are_errors() -> None:
    with pytest.raises(ValueError, match="10000 is outside 0-9999"):
        number_words(10000, "ms")
    with pytest.raises(ValueError, match="'ta'"):
        number_words(1, "ta")
    with pytest.raises(ValueError, match="not a string of digits"):
        digit_words("1O2", "en")
