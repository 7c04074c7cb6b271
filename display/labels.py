"""The board's fixed words in each language, and how they are joined.

Customers in one hall read different languages, so every label is shown in all
of ``site.languages``, in their order: "Nombor / Number". Names from the site
file (site, counters, categories) already come per language; only the board's
own words live here. A language with no entry falls back to English, with one
log line, rather than leaving a hole on the screen.

Example::

    labels = Labels(["ms", "en"])
    labels.both("waiting")       # 'Menunggu / Waiting'
    labels.date(dt.date(2026, 11, 24))   # 'Selasa, 24 November 2026'
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

FALLBACK = "en"

WORDS: Mapping[str, Mapping[str, str]] = {
    "now_calling": {"ms": "Sedang Dipanggil", "en": "Now Calling", "id": "Sedang Dipanggil"},
    "number": {"ms": "Nombor", "en": "Number", "id": "Nomor"},
    "counter": {"ms": "Kaunter", "en": "Counter", "id": "Loket"},
    "service": {"ms": "Perkhidmatan", "en": "Service", "id": "Layanan"},
    "waiting": {"ms": "Menunggu", "en": "Waiting", "id": "Menunggu"},
    "est_wait": {"ms": "Anggaran", "en": "Est. wait", "id": "Perkiraan"},
    "recent": {"ms": "Panggilan Terdahulu", "en": "Previous Calls", "id": "Panggilan Sebelumnya"},
    "recall": {"ms": "Panggilan semula", "en": "Recall", "id": "Panggilan ulang"},
    "paused": {"ms": "Rehat", "en": "Paused", "id": "Istirahat"},
    "closed": {"ms": "Tutup", "en": "Closed", "id": "Tutup"},
    "notice": {"ms": "Notis", "en": "Notice", "id": "Pengumuman"},
    "offline": {"ms": "Sambungan terputus", "en": "Connection lost", "id": "Koneksi terputus"},
    "last_known": {
        "ms": "Memaparkan nombor terakhir diketahui",
        "en": "showing last known numbers",
        "id": "Menampilkan nomor terakhir",
    },
    "last_update": {"ms": "Kemas kini", "en": "Updated", "id": "Diperbarui"},
    "no_data": {"ms": "Menunggu data", "en": "Waiting for data", "id": "Menunggu data"},
    "no_call": {"ms": "Belum ada panggilan", "en": "No calls yet", "id": "Belum ada panggilan"},
    "minutes": {"ms": "min", "en": "min", "id": "mnt"},
    "from": {"ms": "dari", "en": "from", "id": "dari"},
    "no_counter": {"ms": "Tiada kaunter hari ini", "en": "No counter today", "id": "Tak ada loket hari ini"},
}

WEEKDAYS: Mapping[str, Sequence[str]] = {
    "ms": ("Isnin", "Selasa", "Rabu", "Khamis", "Jumaat", "Sabtu", "Ahad"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
}

MONTHS: Mapping[str, Sequence[str]] = {
    "ms": ("Januari", "Februari", "Mac", "April", "Mei", "Jun", "Julai", "Ogos",
           "September", "Oktober", "November", "Disember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember"),
}


class Labels:
    """The board's words for one site's languages (first language first)."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = list(languages) or [FALLBACK]
        unknown = [lang for lang in self.languages if lang not in WEEKDAYS]
        if unknown:
            log.warning("no board labels for languages %s; using %r words", unknown, FALLBACK)

    def each(self, key: str) -> list[str]:
        """The label in every site language, duplicates (e.g. via fallback) dropped."""
        words = WORDS[key]
        out: list[str] = []
        for lang in self.languages:
            word = words.get(lang, words[FALLBACK])
            if word not in out:
                out.append(word)
        return out

    def both(self, key: str, sep: str = " / ") -> str:
        return sep.join(self.each(key))

    def names(self, names: Mapping[str, str]) -> list[str]:
        """A configured name (site, counter, category) in every site language."""
        out: list[str] = []
        for lang in self.languages:
            name = names.get(lang) or next(iter(names.values()), "")
            if name and name not in out:
                out.append(name)
        return out

    def date(self, day: dt.date) -> str:
        """The date in the first language, e.g. 'Selasa, 24 November 2026'."""
        lang = self.languages[0] if self.languages[0] in WEEKDAYS else FALLBACK
        return f"{WEEKDAYS[lang][day.weekday()]}, {day.day} {MONTHS[lang][day.month - 1]} {day.year}"

    def word(self, key: str) -> str:
        """One of WORDS in the first language."""
        return WORDS[key].get(self.languages[0]) or WORDS[key][FALLBACK]

    def minutes(self, minutes: float | None) -> str:
        """An estimated wait, rounded up to whole minutes (at least 1); '—' when the kiosk has none."""
        if minutes is None:
            return "—"
        whole = max(1, math.ceil(minutes))
        return f"~{whole} {WORDS['minutes'].get(self.languages[0], 'min')}"
