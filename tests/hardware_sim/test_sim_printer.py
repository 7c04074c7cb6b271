"""The simulated printer, driven only through python-escpos's own methods."""

from __future__ import annotations

import errno
from collections.abc import Callable

import pytest
import serial
import usb.core
from escpos.exceptions import DeviceNotFoundError
from PIL import Image, ImageDraw

from hardware_sim.paper_model import Graphic, TextLine
from hardware_sim.printer import CLEAR_RESPONSE, SimulatedPrinter

from .conftest import ManualTime

MakeSim = Callable[..., SimulatedPrinter]

DLE_EOT = b"\x10\x04"
CLEAR_BUFFER = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"


def replies(sim: SimulatedPrinter) -> list[bytes]:
    return [sim.query_status(DLE_EOT + bytes((n,))) for n in (1, 2, 3, 4)]


# --- status: exact bytes, and what python-escpos makes of them -----------------


@pytest.mark.parametrize(
    ("switch", "expected", "online", "paper"),
    [
        (None, [b"\x12", b"\x12", b"\x12", b"\x12"], True, 2),
        ("paper_near_end", [b"\x12", b"\x12", b"\x12", b"\x1e"], True, 1),
        ("paper_out", [b"\x1a", b"\x32", b"\x12", b"\x7e"], False, 0),
        ("cover_open", [b"\x1a", b"\x16", b"\x12", b"\x12"], False, 2),
        ("cutter_error", [b"\x1a", b"\x52", b"\x1a", b"\x12"], False, 2),
    ],
)
def test_status_bytes_round_trip(
    make_sim: MakeSim, switch: str | None, expected: list[bytes], online: bool, paper: int
) -> None:
    sim = make_sim()
    if switch:
        setattr(sim, switch, True)
    assert replies(sim) == expected
    assert sim.is_online() is online
    assert sim.paper_status() == paper
    assert sim.received.count(DLE_EOT) == 6


@pytest.mark.faults
def test_silent_serial_printer_reads_as_paper_ok_like_the_real_driver(
    make_sim: MakeSim, manual_time: ManualTime
) -> None:
    """As python-escpos 3.1 does: no answer on Serial makes paper_status() say 2 after the timeout."""
    sim = make_sim(transport="serial", timeout_s=1.5)
    sim.silent = True
    assert sim.query_status(DLE_EOT + b"\x01") == b""
    assert sim.is_online() is False
    assert sim.paper_status() == 2
    assert manual_time.sleeps == [1.5, 1.5, 1.5]


@pytest.mark.faults
@pytest.mark.parametrize(("transport", "error"), [("network", TimeoutError), ("usb", usb.core.USBTimeoutError)])
def test_silent_printer_times_out_like_the_transport(
    make_sim: MakeSim, manual_time: ManualTime, transport: str, error: type[Exception]
) -> None:
    sim = make_sim(transport=transport, timeout_s=2.0)
    sim.silent = True
    with pytest.raises(error):
        sim.paper_status()
    assert manual_time.sleeps == [2.0]
    sim.textln("still prints")
    sim.cut()
    assert sim.tickets() == ["still prints"]


def test_unknown_status_request_gets_no_answer(make_sim: MakeSim) -> None:
    sim = make_sim(transport="serial")
    assert sim.query_status(DLE_EOT + b"\x09") == b""


# --- unplugged ----------------------------------------------------------------


@pytest.mark.faults
@pytest.mark.parametrize(
    ("transport", "error"),
    [("usb", usb.core.USBError), ("serial", serial.SerialException), ("network", BrokenPipeError)],
)
def test_unplugged_printer_raises_like_its_driver(make_sim: MakeSim, transport: str, error: type[Exception]) -> None:
    sim = make_sim(transport=transport)
    sim.textln("before")
    sim.offline = True
    with pytest.raises(error):
        sim.textln("lost")
    with pytest.raises(error):
        sim.is_online()
    sim.close()
    with pytest.raises(DeviceNotFoundError):
        sim.open()
    sim.offline = False
    sim.open()
    sim.textln("after")
    sim.cut()
    assert sim.tickets() == ["before\nafter"]


def test_unplugged_usb_error_says_no_such_device(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.open()
    sim.offline = True
    with pytest.raises(usb.core.USBError) as caught:
        sim.cut()
    assert caught.value.errno == errno.ENODEV


# --- slow ----------------------------------------------------------------------


def test_slow_printer_delays_each_write_and_stamps_the_last_byte(make_sim: MakeSim, manual_time: ManualTime) -> None:
    sim = make_sim(timeout_s=2.0)
    sim.slow_s = 0.25
    sim.cut(feed=False)  # one write each
    sim.cut(feed=False)
    assert manual_time.sleeps == [0.25, 0.25]
    assert sim.last_byte_at == 0.5


@pytest.mark.faults
def test_too_slow_usb_write_times_out_and_delivers_nothing(make_sim: MakeSim, manual_time: ManualTime) -> None:
    sim = make_sim(timeout_s=2.0)
    sim.slow_s = 5.0
    with pytest.raises(usb.core.USBTimeoutError):
        sim.text("A")
    assert manual_time.sleeps == [2.0]
    assert sim.received == b""
    assert sim.last_byte_at is None


# --- paper out: held, not printed, not lost -----------------------------------


@pytest.mark.faults
def test_data_sent_without_paper_is_held_and_prints_when_paper_returns(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.paper_out = True
    sim.textln("A001")
    sim.cut()
    assert sim.paper_text() == ""
    assert sim.held_commands == 5  # ESC t, text, LF, ESC d, GS V
    assert sim.paper_status() == 0  # real-time status is answered while data is held
    sim.paper_out = False
    assert sim.tickets() == ["A001"]
    assert sim.held_commands == 0


@pytest.mark.faults
def test_paper_running_out_mid_print_stops_there(make_sim: MakeSim) -> None:
    sim = make_sim(roll_mm=10)  # 80 dots: two and a bit lines of 30 dots
    for i in range(1, 6):
        sim.textln(f"line {i}")
    assert sim.paper_text() == "line 1\nline 2\nline 3"
    assert sim.paper_out and sim.paper_status() == 0 and not sim.is_online()
    sim.load_paper()
    assert sim.paper_text() == "line 1\nline 2\nline 3\nline 4\nline 5"


def test_short_roll_warns_near_end_first(make_sim: MakeSim) -> None:
    sim = make_sim(roll_mm=500)
    assert sim.paper_status() == 2
    sim.load_paper(roll_mm=50)
    assert sim.paper_status() == 1


@pytest.mark.faults
def test_cover_open_holds_data_until_shut(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.cover_open = True
    sim.textln("A002")
    assert sim.paper_text() == ""
    sim.cover_open = False
    assert sim.paper_text() == "A002"


@pytest.mark.faults
def test_buffer_clear_drops_held_data_and_answers(make_sim: MakeSim) -> None:
    sim = make_sim(transport="serial")
    sim.paper_out = True
    sim.textln("voided ticket")
    sim.cut()
    assert sim.query_status(CLEAR_BUFFER) == CLEAR_RESPONSE
    sim.paper_out = False
    assert sim.paper_text() == ""
    sim.textln("next")
    sim.cut()
    assert sim.tickets() == ["next"]


# --- what ends up on the paper ---------------------------------------------------


def lines(sim: SimulatedPrinter) -> list[TextLine]:
    return [i for i in sim._paper.items if isinstance(i, TextLine)]


def test_sizes_emphasis_and_alignment_are_kept_per_character(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.set(align="center")
    sim.set(custom_size=True, width=8, height=8, bold=True)
    sim.text("A001")
    sim.set(normal_textsize=True, bold=False)
    sim.textln("x")
    sim.set(align="right", underline=1, font="b")
    sim.textln("small")
    big, small = lines(sim)
    assert big.align == 1 and big.height == 192 and big.width == 4 * 96 + 12
    assert [(r.text, r.style.width, r.style.bold) for r in big.runs] == [("A001", 8, True), ("x", 1, False)]
    assert small.align == 2 and small.width == 5 * 9 and small.runs[0].style.underline == 1
    assert sim.text_box("A001") == ((576 - 396) // 2, 0, (576 - 396) // 2 + 384, 192)


def test_alignment_changes_only_at_the_start_of_a_line(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.text("left")
    sim.set(align="center")
    sim.textln(" still left")
    sim.textln("centred")
    assert [line.align for line in lines(sim)] == [0, 1]


def test_long_line_wraps_at_the_head_width_like_a_printer(make_sim: MakeSim) -> None:
    sim = make_sim("POS-5890")  # 384 dots: 32 characters of font A
    sim.textln("x" * 40)
    assert sim.paper_text() == "x" * 32 + "\n" + "x" * 8


def test_code_pages_decode_what_magic_encode_chose(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.textln("Café ½ ─ Ümit")
    assert sim.paper_text() == "Café ½ ─ Ümit"
    assert sim.unsupported == []


def test_raster_image_prints_the_same_pixels(make_sim: MakeSim) -> None:
    img = Image.new("1", (40, 24), 1)
    ImageDraw.Draw(img).rectangle((5, 5, 20, 15), fill=0)
    sim = make_sim()
    sim.set(align="center")
    sim.image(img)
    (graphic,) = sim.graphics()
    assert graphic.align == 1 and graphic.bitmap.size == (40, 24)
    assert graphic.bitmap.getbbox() == (5, 5, 21, 16)  # set pixels are ink
    assert sim.paper_text() == "[image 40x24]"


def test_native_qr_prints_on_a_model_that_has_it(make_sim: MakeSim) -> None:
    sim = make_sim("TM-T20II")
    sim.qr("https://example.org/A001", native=True, size=4)
    (graphic,) = sim.graphics()
    assert graphic.label == "QR https://example.org/A001"
    assert graphic.bitmap.width % 4 == 0 and graphic.bitmap.width >= 21 * 4


def test_native_qr_is_not_printed_by_a_model_without_it(make_sim: MakeSim) -> None:
    sim = make_sim("POS-5890")
    sim.qr("https://example.org/A001", native=True)
    assert sim.graphics() == []
    assert {c.op for c in sim.unsupported} == {"gs(k"}


def test_cuts_separate_tickets_and_a_cutterless_model_is_torn(make_sim: MakeSim) -> None:
    sim = make_sim()
    for n in ("A001", "A002"):
        sim.textln(n)
        sim.cut()
    sim.textln("A003")  # not cut yet: still in the printer
    assert sim.tickets() == ["A001", "A002"]
    assert sim.paper_text().splitlines() == ["A001", "--- cut ---", "A002", "--- cut ---", "A003"]

    tear_off = make_sim("POS-5890")
    tear_off.textln("B001")
    tear_off.cut()  # POS-5890 has no cutter: python-escpos only feeds
    assert tear_off.tickets() == []
    tear_off.tear()
    assert tear_off.tickets() == ["B001"]


def test_init_discards_unprinted_characters_and_resets_modes(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.set(bold=True, align="center")
    sim.text("never printed")
    sim.hw("INIT")
    sim.textln("fresh")
    (line,) = lines(sim)
    assert line.text == "fresh" and line.align == 0 and not line.runs[0].style.bold


def test_graphics_of_one_ticket(make_sim: MakeSim) -> None:
    sim = make_sim()
    sim.textln("one")
    sim.cut()
    sim.qr("two", native=True)
    sim.cut()
    assert sim.graphics(ticket=0) == []
    assert [g.label for g in sim.graphics(ticket=1)] == ["QR two"]
    assert all(isinstance(g, Graphic) for g in sim.graphics())
