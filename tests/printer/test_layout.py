"""What the customer holds: the ticket, the closed slip and the test page, read off the paper."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from giliran.config import SiteConfig
from giliran.errors import ConfigError
from hardware_sim.paper_model import Graphic, TextLine
from hardware_sim.printer import SimulatedPrinter
from printer.layout import (
    RULE,
    ClosedSlip,
    TicketPrint,
    draw_closed_slip,
    draw_test_page,
    draw_ticket,
    load_logo,
)
from printer.phrases import in_languages, missing_languages, phrase

from .conftest import with_printer

MakeSim = Callable[..., SimulatedPrinter]
URL = "https://giliran.example.gov.my/jpn-putrajaya/2026-11-24/A001"


def printed(sim: SimulatedPrinter, tear: bool = False) -> str:
    if tear:
        sim.tear()
    (ticket,) = sim.tickets()
    return ticket


def qr_matches(graphic: Graphic, content: str) -> bool:
    """The printed code is exactly the QR of ``content`` (level L, python-escpos's default)."""
    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(content)
    code.make(fit=True)
    matrix = code.get_matrix()
    ink = graphic.bitmap.crop(graphic.bitmap.getbbox())
    if ink.width % len(matrix):
        return False
    module = ink.width // len(matrix)
    expected = Image.new("1", (len(matrix), len(matrix)))
    expected.putdata([255 if dark else 0 for row in matrix for dark in row])
    expected = expected.resize((ink.width, ink.height), Image.NEAREST)
    return module >= 4 and ink.tobytes() == expected.tobytes()  # 0.5 mm modules or more


def test_ticket_80mm(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint) -> None:
    sim = make_sim(site)
    draw_ticket(sim, ticket, site)
    rule = RULE * 48
    assert printed(sim) == "\n".join(
        [
            "Jabatan Pendaftaran Negara Putrajaya",
            "National Registration Department Putrajaya",
            "24/11/2026   09:05",
            rule,
            "Nombor giliran",
            "Queue number",
            "A001",
            "MyKad",
            "Identity card (MyKad)",
            rule,
            "3 orang di hadapan anda",
            "3 people ahead of you",
            "Anggaran masa menunggu: ~12 minit",
            "Estimated wait: ~12 min",
            rule,
            f"[QR {URL}]",
            "",
            "Imbas untuk semak giliran anda",
            "Scan to follow your turn",
            rule,
            "Sila tunggu nombor anda dipanggil.",
            "Please wait for your number to be called.",
        ]
    )
    (qr,) = sim.graphics()
    assert qr.align == 1 and qr_matches(qr, URL)
    assert sim.unsupported == []


def test_ticket_58mm_wraps_words_and_sends_the_qr_as_an_image(
    make_sim: MakeSim, site58: SiteConfig, ticket: TicketPrint
) -> None:
    sim = make_sim(site58)
    draw_ticket(sim, ticket, site58)
    (qr,) = sim.graphics()
    rule = RULE * 32
    assert printed(sim, tear=True) == "\n".join(
        [
            "Jabatan Pendaftaran Negara",
            "Putrajaya",
            "National Registration Department",
            "Putrajaya",
            "24/11/2026   09:05",
            rule,
            "Nombor giliran",
            "Queue number",
            "A001",
            "MyKad",
            "Identity card (MyKad)",
            rule,
            "3 orang di hadapan anda",
            "3 people ahead of you",
            "Anggaran masa menunggu: ~12 minit",
            "Estimated wait: ~12 min",
            rule,
            "",
            f"[{qr.label}]",
            "",
            "",
            "Imbas untuk semak giliran anda",
            "Scan to follow your turn",
            rule,
            "Sila tunggu nombor anda dipanggil.",
            "Please wait for your number to be called.",
        ]
    )
    assert qr.label.startswith("image ") and qr.align == 1 and qr_matches(qr, URL)
    assert sim.unsupported == []  # no native QR sent to a model without it


@pytest.mark.parametrize(("model", "size"), [("site", (8, 8)), ("site58", (7, 8))])
def test_number_is_the_biggest_that_fits(
    make_sim: MakeSim, ticket: TicketPrint, model: str, size: tuple[int, int], request: pytest.FixtureRequest
) -> None:
    site: SiteConfig = request.getfixturevalue(model)
    sim = make_sim(site)
    draw_ticket(sim, ticket, site)
    number = next(i for i in sim._paper.items if isinstance(i, TextLine) and i.text == "A001")
    (run,) = number.runs
    assert (run.style.width, run.style.height, run.style.bold) == (*size, True)
    box = sim.text_box("A001")
    assert box is not None and box[0] > 0 and box[2] < sim.printable_dots
    category = next(i for i in sim._paper.items if isinstance(i, TextLine) and i.text == "MyKad")
    assert (category.runs[0].style.width, category.runs[0].style.height) == (2, 2)


def test_long_category_names_wrap_between_words_on_58mm(make_sim: MakeSim, site58: SiteConfig) -> None:
    priority = site58.category("priority")
    when = dt.datetime(2026, 11, 24, 9, 5)
    sim = make_sim(site58)
    draw_ticket(sim, TicketPrint("P001", priority.id, priority.name, when, 0, None), site58)
    long_name = next(i for i in sim._paper.items if isinstance(i, TextLine) and i.text == "Ibu Mengandung")
    assert (long_name.runs[0].style.width, long_name.runs[0].style.height) == (1, 2)  # too long for 2 x 2
    lines = printed(sim, tear=True).splitlines()
    assert "Keutamaan: OKU / Warga Emas /" in lines and "Ibu Mengandung" in lines
    assert "Priority: disabled / elderly /" in lines and "pregnant" in lines


@settings(max_examples=25, deadline=None)
@given(
    words=st.lists(st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=14), min_size=1, max_size=8),
    ahead=st.integers(0, 400),
    wait=st.none() | st.floats(0, 600),
    paper=st.sampled_from([("TM-T20II", 80), ("POS-5890", 58), ("TM-T88V", 80)]),
)
def test_any_ticket_keeps_words_whole_and_fits_the_paper(
    site: SiteConfig, words: list[str], ahead: int, wait: float | None, paper: tuple[str, int]
) -> None:
    profile, mm = paper
    variant = with_printer(site, profile=profile, paper_mm=mm)
    name = " ".join(words)
    sim = SimulatedPrinter(profile, paper_mm=mm)
    when = dt.datetime(2026, 11, 24, 9, 5)
    draw_ticket(sim, TicketPrint("K123", "collect", {"ms": name, "en": name}, when, ahead, wait), variant)
    sim.tear()
    lines = sim.tickets()[0].splitlines()
    assert all(any(word in line.split() for line in lines) for word in words)
    assert "K123" in lines and sim.unsupported == []
    assert all(item.width <= sim.printable_dots for item in sim._paper.items if isinstance(item, TextLine))


def test_copy_marker_and_people_ahead_and_unknown_wait(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint) -> None:
    sim = make_sim(site)
    draw_ticket(sim, dataclasses.replace(ticket, copy=True, ahead=0, est_wait_min=None), site)
    draw_ticket(sim, dataclasses.replace(ticket, ahead=1, est_wait_min=0.2), site)
    first, second = (t.splitlines() for t in sim.tickets())
    assert " SALINAN / COPY" in first
    assert {"Tiada orang di hadapan anda", "No one ahead of you"} <= set(first)
    assert {"Anggaran masa menunggu: belum diketahui", "Estimated wait: not known yet"} <= set(first)
    assert {"1 orang di hadapan anda", "1 person ahead of you", "Estimated wait: ~1 min"} <= set(second)
    assert " SALINAN / COPY" not in second


def test_a_service_whose_counters_open_later_says_from_when(make_sim: MakeSim, site: SiteConfig,
                                                            ticket: TicketPrint) -> None:
    sim = make_sim(site)
    draw_ticket(sim, dataclasses.replace(ticket, ahead=2, est_wait_min=41.0, serving_from=dt.time(9, 0)), site)
    draw_ticket(sim, ticket, site)
    later, now = (t.splitlines() for t in sim.tickets())
    assert {"Kaunter dibuka dari 09:00", "Counters open from 09:00", "Estimated wait: ~41 min"} <= set(later)
    assert later.index("Counters open from 09:00") < later.index("Estimated wait: ~41 min")
    assert not any("dari" in line or "open from" in line for line in now)


def test_indonesian_site_prints_indonesian_phrases(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint) -> None:
    names = {"id": "Kantor Imigrasi Jakarta", "en": "Jakarta Immigration Office"}
    indonesian = msgspec.structs.replace(
        site, site=msgspec.structs.replace(site.site, languages=["id", "en"], name=names)
    )
    sim = make_sim(indonesian)
    passport = dataclasses.replace(ticket, category_names={"id": "Paspor", "en": "Passport"})
    draw_ticket(sim, passport, indonesian)
    lines = printed(sim).splitlines()
    assert lines[:2] == ["Kantor Imigrasi Jakarta", "Jakarta Immigration Office"]
    assert {"Nomor antrean", "Paspor", "3 orang di depan Anda", "Perkiraan waktu tunggu: ~12 menit"} <= set(lines)
    assert "Please wait for your number to be called." in lines  # footer has no 'id': English only


def test_quota_slip(make_sim: MakeSim, site: SiteConfig) -> None:
    marriage = site.category("marriage")
    at = dt.datetime(2026, 11, 24, 11, 30)
    sim = make_sim(site)
    draw_closed_slip(sim, ClosedSlip("quota", at, marriage.name, site.hours_of(marriage)), site)
    rule = RULE * 48
    assert printed(sim) == "\n".join(
        [
            "Jabatan Pendaftaran Negara Putrajaya",
            "National Registration Department Putrajaya",
            rule,
            "KUOTA PENUH",
            "QUOTA REACHED",
            "Perkahwinan & Perceraian",
            "Marriage & divorce",
            rule,
            "Kuota nombor giliran hari ini telah penuh.",
            "Today's quota of numbers has been reached.",
            "Sila datang semula esok.",
            "Please come back tomorrow.",
            "Waktu operasi: 08:30 - 16:00",
            "Opening hours: 08:30 - 16:00",
            rule,
            "24/11/2026   11:30",
        ]
    )


def test_closed_slip_on_58mm(make_sim: MakeSim, site58: SiteConfig) -> None:
    sim = make_sim(site58)
    draw_closed_slip(sim, ClosedSlip("closed", dt.datetime(2026, 11, 24, 17, 5)), site58)
    lines = printed(sim, tear=True).splitlines()
    assert {"TUTUP", "CLOSED", "Sila datang semula esok.", "Please come back tomorrow."} <= set(lines)
    assert "Kaunter telah ditutup untuk hari ini." in lines
    assert sim.unsupported == []


def test_test_page(make_sim: MakeSim, site58: SiteConfig) -> None:
    sim = make_sim(site58)
    draw_test_page(sim, site58, dt.datetime(2026, 11, 24, 8, 0))
    lines = printed(sim, tear=True).splitlines()
    assert {"CETAKAN UJIAN", "TEST PRINT", "P001", "12345678901234567890123456789012"} <= set(lines)
    assert "profile POS-5890, paper 58 mm, 384 dots" in lines
    assert "native QR: no (sent as image)" in lines
    assert len(sim.graphics()) == 1 and sim.unsupported == []


def test_logo_is_shrunk_to_fit_and_centred(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint, tmp_path: Path) -> None:
    Image.new("RGB", (1200, 300), "black").save(tmp_path / "logo.png")
    with_logo = with_printer(site, logo="logo.png")
    logo = load_logo(with_logo, tmp_path)
    assert logo is not None and logo.size == (460, 115)
    sim = make_sim(with_logo)
    draw_ticket(sim, ticket, with_logo, logo)
    first = sim.graphics()[0]
    assert first.align == 1 and first.bitmap.size == (464, 115)  # raster rows are whole bytes
    assert printed(sim).startswith("[image 464x115]\nJabatan Pendaftaran Negara Putrajaya")


def test_missing_logo_names_the_key(site: SiteConfig, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="printer.logo: cannot read image"):
        load_logo(with_printer(site, logo="nope.png"), tmp_path)
    assert load_logo(site) is None


def test_phrases() -> None:
    assert phrase("ahead", "ms", n=4) == "4 orang di hadapan anda"
    assert phrase("wait", "ta", n=5) == "Estimated wait: ~5 min"  # unknown language: English
    assert in_languages("copy", ["ms", "id", "en"]) == ["SALINAN", "COPY"]
    assert missing_languages(["ms", "en", "ta"]) == ["ta"]


def test_ticket_rejects_impossible_values(ticket: TicketPrint) -> None:
    with pytest.raises(ValueError, match="ahead"):
        dataclasses.replace(ticket, ahead=-1)
    with pytest.raises(ValueError, match="number"):
        dataclasses.replace(ticket, number=" ")
