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
    number_size,
    qr_module,
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


@pytest.mark.parametrize("model", ["site", "site58"])
def test_a_thousandth_ticket_number_fits_the_paper(
    make_sim: MakeSim, ticket: TicketPrint, model: str, request: pytest.FixtureRequest
) -> None:
    site: SiteConfig = request.getfixturevalue(model)
    sim = make_sim(site)
    draw_ticket(sim, dataclasses.replace(ticket, number="A1000"), site)
    assert "A1000" in sim.paper_text().splitlines()
    box = sim.text_box("A1000")
    assert box is not None and box[0] >= 0 and box[2] <= sim.printable_dots


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
    assert lines[-2:] == [RULE * 48, "Please wait for your number to be called."]  # footer has no 'id': English only


def test_quota_slip(make_sim: MakeSim, site: SiteConfig) -> None:
    marriage = site.category("marriage")
    at = dt.datetime(2026, 11, 24, 11, 30)
    sim = make_sim(site)
    draw_closed_slip(sim, ClosedSlip("quota", at, marriage.name, site.hours_of(marriage)), site)
    rule = RULE * 48
    shown = looks(sim)
    assert shown["KUOTA PENUH"] == shown["QUOTA REACHED"] == "A bold 2x2"
    assert shown["Perkahwinan & Perceraian"] == shown["Marriage & divorce"] == "A bold 1x1"
    assert shown["Sila datang semula esok."] == shown["Please come back tomorrow."] == "A bold 1x1"
    assert shown["Kuota nombor giliran hari ini telah penuh."] == shown["Opening hours: 08:30 - 16:00"] == "A 1x1"
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
    rule = RULE * 32
    assert printed(sim, tear=True) == "\n".join(
        [
            "Jabatan Pendaftaran Negara",
            "Putrajaya",
            "National Registration Department",
            "Putrajaya",
            rule,
            "TUTUP",
            "CLOSED",
            rule,
            "Kaunter telah ditutup untuk hari ini.",
            "The counters are closed for today.",
            "Sila datang semula esok.",
            "Please come back tomorrow.",
            rule,
            "24/11/2026   17:05",
        ]
    )
    assert sim.graphics() == [] and sim.unsupported == []


def test_test_page(make_sim: MakeSim, site58: SiteConfig) -> None:
    sim = make_sim(site58)
    draw_test_page(sim, site58, dt.datetime(2026, 11, 24, 8, 0))
    (qr,) = sim.graphics()
    rule = RULE * 32
    assert printed(sim, tear=True) == "\n".join(
        [
            "Jabatan Pendaftaran Negara",
            "Putrajaya",
            "National Registration Department",
            "Putrajaya",
            rule,
            "CETAKAN UJIAN",
            "TEST PRINT",
            "24/11/2026   08:00",
            rule,
            "profile POS-5890, paper 58 mm, 384 dots",
            "connection sim, 32 columns",
            "native QR: no (sent as image)",
            rule,
            "P001",
            "normal 1x1",
            "bold 1x2",
            " inverted",
            "small font B",
            "12345678901234567890123456789012",
            rule,
            "",
            f"[{qr.label}]",
            "",
            "",
            "Sila tunggu nombor anda dipanggil.",
            "Please wait for your number to be called.",
        ]
    )
    assert qr_matches(qr, "giliran:jpn-putrajaya:test") and sim.unsupported == []
    # Every size and style a ticket uses, each labelled with what it should look like.
    assert [look for _, look in styled(sim)] == [
        "A bold 1x1", "A bold 1x1", "A 1x1", "A 1x1", "A 1x1",   # site name (first language bold), rule
        "A bold 2x2", "A bold 2x2", "A 1x1", "A 1x1",            # title, stamp, rule
        "B 1x1", "B 1x1", "B 1x1", "A 1x1",                      # model facts in font B, rule
        "A bold 7x8", "A 1x1", "A bold 1x2", "A 1x1 inverted", "B 1x1", "A 1x1", "A 1x1",  # sizes, ruler, rule
        "B 1x1", "B 1x1",                                        # footer
    ]


def test_test_page_on_80mm_sends_a_native_qr(make_sim: MakeSim, site: SiteConfig) -> None:
    sim = make_sim(site)
    draw_test_page(sim, site, dt.datetime(2026, 11, 24, 8, 0))
    lines = printed(sim).splitlines()
    assert {"profile TM-T20II, paper 80 mm, 576 dots", "connection sim, 48 columns", "native QR: yes"} <= set(lines)
    assert "[QR giliran:jpn-putrajaya:test]" in lines
    assert "123456789012345678901234567890123456789012345678" in lines


def test_qr_modules_are_big_enough_for_a_phone_and_bordered(make_sim: MakeSim, site: SiteConfig, site58: SiteConfig,
                                                           ticket: TicketPrint) -> None:
    """The ticket's QR (33 x 33 modules for its URL, error correction L) takes about a third of the line:
    5-dot modules on 80 mm (165 dots of 576), 4-dot modules (0.5 mm, the least a phone reads) on 58 mm,
    where the image keeps a white border of one module all round."""
    wide = make_sim(site)
    draw_ticket(wide, ticket, site)
    (native,) = wide.graphics()
    assert native.bitmap.size == (165, 165) and qr_matches(native, URL)
    narrow = make_sim(site58)
    draw_ticket(narrow, ticket, site58)
    (image,) = narrow.graphics()
    assert image.bitmap.getbbox() == (4, 4, 136, 136) and image.bitmap.size[1] == 140 and qr_matches(image, URL)


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
    with pytest.raises(ConfigError, match="printer.logo: cannot read image") as info:
        load_logo(with_printer(site, logo="nope.png"), tmp_path)
    assert info.value.source == "printer.logo" and str(tmp_path / "nope.png") in info.value.problems[0]
    assert load_logo(site) is None


def test_phrases() -> None:
    assert phrase("ahead", "ms", n=4) == "4 orang di hadapan anda"
    assert phrase("wait", "ta", n=5) == "Estimated wait: ~5 min"  # unknown language: English
    assert in_languages("copy", ["ms", "id", "en"]) == ["SALINAN", "COPY"]
    assert missing_languages(["ms", "en", "ta"]) == ["ta"]


def test_ticket_rejects_impossible_values(ticket: TicketPrint) -> None:
    with pytest.raises(ValueError, match="^ahead is -1; it cannot be negative$"):
        dataclasses.replace(ticket, ahead=-1)
    with pytest.raises(ValueError, match="^number is empty$"):
        dataclasses.replace(ticket, number=" ")
    with pytest.raises(ValueError, match="^est_wait_min is -0.5; it cannot be negative$"):
        dataclasses.replace(ticket, est_wait_min=-0.5)
    assert dataclasses.replace(ticket, est_wait_min=0.0, ahead=0).est_wait_min == 0.0  # served at once: allowed


@pytest.mark.parametrize("what", ["closed slip", "test page"])
def test_logo_heads_the_slips_too(make_sim: MakeSim, site: SiteConfig, tmp_path: Path, what: str) -> None:
    Image.new("RGB", (400, 100), "black").save(tmp_path / "logo.png")
    with_logo = with_printer(site, logo="logo.png")
    logo = load_logo(with_logo, tmp_path)
    sim = make_sim(with_logo)
    if what == "closed slip":
        draw_closed_slip(sim, ClosedSlip("closed", dt.datetime(2026, 11, 24, 17, 5)), with_logo, logo)
    else:
        draw_test_page(sim, with_logo, dt.datetime(2026, 11, 24, 8, 0), logo)
    first = sim.graphics()[0]
    assert first.align == 1 and first.bitmap.size == (400, 100)
    assert printed(sim).startswith("[image 400x100]\nJabatan Pendaftaran Negara Putrajaya")


def looks(sim: SimulatedPrinter) -> dict[str, str]:
    """How each printed line looks: font A/B, bold, width x height, inverted (by its text)."""
    return dict(styled(sim))


def styled(sim: SimulatedPrinter) -> list[tuple[str, str]]:
    """Every printed line in order, with how it looks."""
    out = []
    for line in sim._paper.items:
        if isinstance(line, TextLine) and line.runs:
            s = line.runs[0].style
            look = f"{'AB'[s.font]}{' bold' if s.bold else ''} {s.width}x{s.height}{' inverted' if s.invert else ''}"
            out.append((line.text, look + (" underlined" if s.underline else "")))
    return out


def test_what_stands_out_on_the_ticket(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint) -> None:
    """The number, the service and the people ahead in bold; the copy marker inverted; headings and hints small."""
    sim = make_sim(site)
    draw_ticket(sim, dataclasses.replace(ticket, copy=True, ahead=0), site)
    assert looks(sim) == {
        "Jabatan Pendaftaran Negara Putrajaya": "A bold 1x1",
        "National Registration Department Putrajaya": "A 1x1",
        "24/11/2026   09:05": "A 1x1",
        RULE * 48: "A 1x1",
        "Nombor giliran": "B 1x1",
        "Queue number": "B 1x1",
        "A001": "A bold 8x8",
        " SALINAN / COPY": "A bold 1x1 inverted",
        "MyKad": "A bold 2x2",
        "Identity card (MyKad)": "A 1x1",
        "Tiada orang di hadapan anda": "A bold 1x1",
        "No one ahead of you": "A bold 1x1",
        "Anggaran masa menunggu: ~12 minit": "A 1x1",
        "Estimated wait: ~12 min": "A 1x1",
        "Imbas untuk semak giliran anda": "B 1x1",
        "Scan to follow your turn": "B 1x1",
        "Sila tunggu nombor anda dipanggil.": "B 1x1",
        "Please wait for your number to be called.": "B 1x1",
    }
    sim = make_sim(site)
    draw_ticket(sim, dataclasses.replace(ticket, ahead=4, serving_from=dt.time(9, 0)), site)
    shown = looks(sim)
    assert shown["4 people ahead of you"] == shown["Counters open from 09:00"] == "A bold 1x1"


def test_a_phrase_too_long_for_a_58mm_line_goes_small_in_every_language(make_sim: MakeSim, site58: SiteConfig,
                                                                        ticket: TicketPrint) -> None:
    """'Anggaran masa menunggu: ~1 minit' just fits 32 columns; with ~12 it does not, so both languages go to
    font B (42 columns) rather than one wrapping. The quota notice, 42 characters, fills font B exactly."""
    sim = make_sim(site58)
    draw_ticket(sim, dataclasses.replace(ticket, est_wait_min=1.0), site58)
    draw_ticket(sim, ticket, site58)
    shown = looks(sim)  # both tickets, one after the other on the roll
    assert shown["Anggaran masa menunggu: ~1 minit"] == shown["Estimated wait: ~1 min"] == "A 1x1"
    assert shown["Anggaran masa menunggu: ~12 minit"] == shown["Estimated wait: ~12 min"] == "B 1x1"
    marriage = site58.category("marriage")
    slip = make_sim(site58)
    draw_closed_slip(slip, ClosedSlip("quota", dt.datetime(2026, 11, 24, 11, 30), marriage.name), site58)
    assert looks(slip)["Kuota nombor giliran hari ini telah penuh."] == "B 1x1"


def test_a_ticket_prints_right_after_the_printer_was_left_in_another_mode(make_sim: MakeSim, site: SiteConfig,
                                                                          ticket: TicketPrint) -> None:
    """Every slip starts by resetting the printer (ESC @), so bold, inverted, double-size text left over from an
    interrupted job does not leak onto the next customer's ticket."""
    sim = make_sim(site)
    sim.set(bold=True, invert=True, double_width=True, double_height=True, font="b", underline=1)
    draw_ticket(sim, ticket, site)
    assert looks(sim)["National Registration Department Putrajaya"] == "A 1x1"
    assert not any("underlined" in look for _, look in styled(sim))


def test_long_numbers_fall_back_to_normal_width() -> None:
    """The number takes the widest size that fits 90 % of the line, and one step taller than wide."""
    assert number_size("A001", 576, 12) == (8, 8)
    assert number_size("A001", 384, 12) == (7, 8)
    assert number_size("P12345678901234567890123456789", 576, 12) == (1, 2)


def test_qr_module_size_follows_the_code_and_the_paper() -> None:
    """A 50-character URL is a 29-module code at error correction L (python-escpos's level): 6-dot modules on
    80 mm (a third of 576 dots over 29 + 2 border modules). A short code on wide paper stops at 8 dots (1 mm)."""
    url = "https://giliran.example.gov.my/jpn-putrajaya/A0001"
    assert len(url) == 50 and qr_module(url, 576) == 6
    assert qr_module("x", 1000) == 8


def test_qr_url_can_name_the_category(make_sim: MakeSim, site: SiteConfig, ticket: TicketPrint) -> None:
    custom = with_printer(site, qr_url="https://q.example/{site}/{category}/{date}/{number}")
    sim = make_sim(custom)
    draw_ticket(sim, ticket, custom)
    assert "[QR https://q.example/jpn-putrajaya/mykad/2026-11-24/A001]" in printed(sim).splitlines()


def test_the_test_page_qr_on_80mm(make_sim: MakeSim, site: SiteConfig) -> None:
    """'giliran:jpn-putrajaya:test' is a 25-module code: 7-dot modules on 80 mm."""
    sim = make_sim(site)
    draw_test_page(sim, site, dt.datetime(2026, 11, 24, 8, 0))
    (qr,) = sim.graphics()
    assert qr.bitmap.size == (175, 175) and qr_matches(qr, "giliran:jpn-putrajaya:test")


def test_logo_load_is_logged_for_the_technician(site: SiteConfig, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    Image.new("RGB", (1200, 300), "black").save(tmp_path / "logo.png")
    with caplog.at_level("INFO", logger="printer.layout"):
        load_logo(with_printer(site, logo="logo.png"), tmp_path)
    assert caplog.messages == [f"logo {tmp_path / 'logo.png'} loaded at 460x115 dots"]



def test_a_printer_without_font_b_prints_small_lines_in_font_a(make_sim: MakeSim, site: SiteConfig,
                                                                ticket: TicketPrint) -> None:
    """The ZJ-5870 (58 mm) has one font: headings and hints print in font A, wrapped to its 32 columns."""
    zj = with_printer(site, profile="ZJ-5870", paper_mm=58)
    sim = make_sim(zj)
    draw_ticket(sim, ticket, zj)
    shown = styled(sim)
    assert ("Nombor giliran", "A 1x1") in shown and ("Scan to follow your turn", "A 1x1") in shown
    assert ("Sila tunggu nombor anda", "A 1x1") in shown and ("dipanggil.", "A 1x1") in shown
    assert sim.unsupported == []


def test_the_first_category_name_is_double_width_while_it_fits_half_a_line(make_sim: MakeSim, site58: SiteConfig,
                                                                          ticket: TicketPrint) -> None:
    """On 58 mm (32 columns) a 16-letter name prints double width on one line; a 17-letter one stays
    single width rather than wrapping."""
    sim = make_sim(site58)
    draw_ticket(sim, dataclasses.replace(ticket, category_names={"ms": "Pasport Antarabg"}), site58)
    draw_ticket(sim, dataclasses.replace(ticket, category_names={"ms": "Pasport Antarabng"}), site58)
    shown = looks(sim)
    assert shown["Pasport Antarabg"] == "A bold 2x2" and shown["Pasport Antarabng"] == "A bold 1x2"


def test_a_relative_logo_path_without_a_base_is_read_from_the_working_folder(
        site: SiteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (100, 50), "black").save(tmp_path / "logo.png")
    monkeypatch.chdir(tmp_path)
    logo = load_logo(with_printer(site, logo="logo.png"))
    assert logo is not None and logo.size == (100, 50)


def test_a_transparent_logo_prints_only_its_mark(make_sim: MakeSim, site: SiteConfig, tmp_path: Path) -> None:
    """A palette PNG whose background is transparent black prints as a black mark on white paper, not a block."""
    img = Image.new("P", (80, 40), 0)
    img.putpalette([0, 0, 0, 0, 0, 0])
    img.paste(1, (30, 10, 50, 30))
    img.save(tmp_path / "logo.png", transparency=0)
    with_logo = with_printer(site, logo="logo.png")
    logo = load_logo(with_logo, tmp_path)
    sim = make_sim(with_logo)
    draw_closed_slip(sim, ClosedSlip("closed", dt.datetime(2026, 11, 24, 17, 5)), with_logo, logo)
    mark = sim.graphics()[0].bitmap.convert("L")
    assert (mark.getpixel((5, 5)), mark.getpixel((40, 20))) == (0, 255)  # the bitmap is ink: 255 = black dot
