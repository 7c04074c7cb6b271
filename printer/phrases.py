"""The fixed words printed on tickets and slips, in Malay, English and Indonesian.

Names (site, categories, footer) come from the site file; only these phrases
are ours. A language missing here falls back to English, so a site with, say,
``languages = ["ms", "ta"]`` still prints, and :func:`missing_languages` lets
the kiosk warn about it once at start.

Example::

    phrase("ahead", "ms", n=3)            # '3 orang di hadapan anda'
    in_languages("wait", ["ms", "en"], n=12)
    # ['Anggaran masa menunggu: ~12 minit', 'Estimated wait: ~12 min']
"""

from __future__ import annotations

from collections.abc import Iterable

FALLBACK = "en"

PHRASES: dict[str, dict[str, str]] = {
    "queue_number": {"ms": "Nombor giliran", "en": "Queue number", "id": "Nomor antrean"},
    "ahead_none": {
        "ms": "Tiada orang di hadapan anda",
        "en": "No one ahead of you",
        "id": "Tidak ada orang di depan Anda",
    },
    "ahead_one": {
        "ms": "1 orang di hadapan anda",
        "en": "1 person ahead of you",
        "id": "1 orang di depan Anda",
    },
    "ahead": {
        "ms": "{n} orang di hadapan anda",
        "en": "{n} people ahead of you",
        "id": "{n} orang di depan Anda",
    },
    "wait": {
        "ms": "Anggaran masa menunggu: ~{n} minit",
        "en": "Estimated wait: ~{n} min",
        "id": "Perkiraan waktu tunggu: ~{n} menit",
    },
    "serving_from": {
        "ms": "Kaunter dibuka dari {t}",
        "en": "Counters open from {t}",
        "id": "Loket buka dari {t}",
    },
    "wait_unknown": {
        "ms": "Anggaran masa menunggu: belum diketahui",
        "en": "Estimated wait: not known yet",
        "id": "Perkiraan waktu tunggu: belum diketahui",
    },
    "copy": {"ms": "SALINAN", "en": "COPY", "id": "SALINAN"},
    "scan": {
        "ms": "Imbas untuk semak giliran anda",
        "en": "Scan to follow your turn",
        "id": "Pindai untuk memantau antrean Anda",
    },
    "closed_title": {"ms": "TUTUP", "en": "CLOSED", "id": "TUTUP"},
    "closed": {
        "ms": "Kaunter telah ditutup untuk hari ini.",
        "en": "The counters are closed for today.",
        "id": "Loket sudah tutup untuk hari ini.",
    },
    "no_counter": {
        "ms": "Tiada lagi kaunter untuk perkhidmatan ini hari ini.",
        "en": "No counter serves this any more today.",
        "id": "Tidak ada lagi loket untuk layanan ini hari ini.",
    },
    "quota_title": {"ms": "KUOTA PENUH", "en": "QUOTA REACHED", "id": "KUOTA PENUH"},
    "quota": {
        "ms": "Kuota nombor giliran hari ini telah penuh.",
        "en": "Today's quota of numbers has been reached.",
        "id": "Kuota nomor antrean hari ini sudah habis.",
    },
    "come_back": {
        "ms": "Sila datang semula esok.",
        "en": "Please come back tomorrow.",
        "id": "Silakan datang kembali besok.",
    },
    "hours": {
        "ms": "Waktu operasi: {open} - {close}",
        "en": "Opening hours: {open} - {close}",
        "id": "Jam layanan: {open} - {close}",
    },
    "test_title": {"ms": "CETAKAN UJIAN", "en": "TEST PRINT", "id": "CETAK UJI"},
}


def phrase(key: str, lang: str, **fields: object) -> str:
    """The phrase ``key`` in ``lang`` (English if missing), with ``fields`` filled in."""
    table = PHRASES[key]
    return table.get(lang, table[FALLBACK]).format(**fields)


def in_languages(key: str, languages: Iterable[str], **fields: object) -> list[str]:
    """The phrase in each language, in order, without repeating identical lines."""
    lines: list[str] = []
    for lang in languages:
        line = phrase(key, lang, **fields)
        if line not in lines:
            lines.append(line)
    return lines


def missing_languages(languages: Iterable[str]) -> list[str]:
    """Languages this table does not cover; their phrases print in English."""
    return [lang for lang in languages if lang not in PHRASES["queue_number"]]
