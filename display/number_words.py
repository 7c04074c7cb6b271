"""Numbers as spoken words in Malay, English and Indonesian, 0 to 9999.

Each word is also the name of a voice clip, so "seratus dua" is two clips,
``seratus.wav`` and ``dua.wav``. Digit by digit reading uses the zero word
people say when reading out a number ("kosong", "zero", "nol").

Example::

    >>> number_words(102, "ms")
    ['seratus', 'dua']
    >>> number_words(102, "en")
    ['one', 'hundred', 'and', 'two']
    >>> digit_words("A102"[1:], "id")
    ['satu', 'nol', 'dua']
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_NUMBER = 9999


@dataclass(frozen=True)
class _MalayNumerals:
    """Malay and Indonesian share one structure: se- for one ten/hundred/thousand."""

    digits: tuple[str, ...]
    ten: str = "sepuluh"
    eleven: str = "sebelas"
    teen: str = "belas"
    tens: str = "puluh"
    one_hundred: str = "seratus"
    hundreds: str = "ratus"
    one_thousand: str = "seribu"
    thousands: str = "ribu"

    def words(self, n: int) -> list[str]:
        if n == 0:
            return [self.digits[0]]
        return self._positive(n)

    def _positive(self, n: int) -> list[str]:
        if n == 0:
            return []
        if n >= 1000:
            head = [self.one_thousand] if n // 1000 == 1 else [self.digits[n // 1000], self.thousands]
            return head + self._positive(n % 1000)
        if n >= 100:
            head = [self.one_hundred] if n // 100 == 1 else [self.digits[n // 100], self.hundreds]
            return head + self._positive(n % 100)
        if n == 10:
            return [self.ten]
        if n == 11:
            return [self.eleven]
        if 12 <= n <= 19:
            return [self.digits[n - 10], self.teen]
        if n >= 20:
            return [self.digits[n // 10], self.tens] + self._positive(n % 10)
        return [self.digits[n]]

    def vocabulary(self) -> frozenset[str]:
        return frozenset(self.digits) | {
            self.ten, self.eleven, self.teen, self.tens,
            self.one_hundred, self.hundreds, self.one_thousand, self.thousands,
        }


@dataclass(frozen=True)
class _EnglishNumerals:
    """British usage: "one hundred and two", as a PA in Malaysia says it."""

    digits: tuple[str, ...] = (
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    )
    teens: tuple[str, ...] = (
        "ten", "eleven", "twelve", "thirteen", "fourteen",
        "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    )
    tens: tuple[str, ...] = (
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    )

    def words(self, n: int) -> list[str]:
        if n == 0:
            return [self.digits[0]]
        head: list[str] = []
        if n >= 1000:
            head += [self.digits[n // 1000], "thousand"]
        if n % 1000 >= 100:
            head += [self.digits[n % 1000 // 100], "hundred"]
        rest = n % 100
        if rest == 0:
            return head
        return head + (["and"] if head else []) + self._below_hundred(rest)

    def _below_hundred(self, n: int) -> list[str]:
        if n < 10:
            return [self.digits[n]]
        if n < 20:
            return [self.teens[n - 10]]
        return [self.tens[n // 10]] + ([self.digits[n % 10]] if n % 10 else [])

    def vocabulary(self) -> frozenset[str]:
        named = set(self.digits) | set(self.teens) | set(self.tens[2:])
        return frozenset(named | {"hundred", "thousand", "and"})


_MALAY_DIGITS = ("kosong", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "lapan",
                 "sembilan")
_INDONESIAN_DIGITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
                      "sembilan")

_NUMERALS: dict[str, _MalayNumerals | _EnglishNumerals] = {
    "ms": _MalayNumerals(_MALAY_DIGITS),
    "en": _EnglishNumerals(),
    "id": _MalayNumerals(_INDONESIAN_DIGITS),
}

LANGUAGES = tuple(_NUMERALS)


def _numerals(lang: str) -> _MalayNumerals | _EnglishNumerals:
    try:
        return _NUMERALS[lang]
    except KeyError:
        raise ValueError(
            f"no number words for language {lang!r}; known: {', '.join(LANGUAGES)}"
        ) from None


def number_words(n: int, lang: str) -> list[str]:
    """``n`` read as a number: 102 -> seratus dua / one hundred and two / seratus dua."""
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside 0-{MAX_NUMBER}, the numbers a voice pack can read")
    return _numerals(lang).words(n)


def digit_words(digits: str, lang: str) -> list[str]:
    """A string of digits read one by one: "102" -> satu kosong dua."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{digits!r} is not a string of digits 0-9")
    names = _numerals(lang).digits
    return [names[int(d)] for d in digits]


def vocabulary(lang: str) -> frozenset[str]:
    """Every word number_words and digit_words can say in ``lang``: the clips a pack needs."""
    return _numerals(lang).vocabulary()
