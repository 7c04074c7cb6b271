"""The receive stage: where each command python-escpos sends begins and ends."""

from __future__ import annotations

from escpos.printer import Dummy

from hardware_sim.escpos_stream import Command, CommandStream


def commands(data: bytes) -> list[Command]:
    return CommandStream().feed(data)


def test_text_and_simple_commands() -> None:
    assert commands(b"\x1b@\x1ba\x01\x1bE\x01Hi\n\x1dV\x01") == [
        Command("init"),
        Command("align", (1,)),
        Command("bold", (1,)),
        Command("text", data=b"Hi"),
        Command("lf"),
        Command("cut", (1,)),
    ]


def test_counted_payloads() -> None:
    raster = b"\x1dv0\x00\x02\x00\x03\x00" + bytes(range(6))
    qr_store = b"\x1d(k\x07\x001P0abcd"
    assert commands(raster + qr_store + b"\x1dVB\x00") == [
        Command("raster", (0, 2, 3), bytes(range(6))),
        Command("gs(k", data=b"1P0abcd"),
        Command("cut", (66, 0)),
    ]


def test_real_time_commands() -> None:
    clear = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
    assert commands(b"\x10\x04\x01\x10\x04\x04" + clear) == [
        Command("status", (1,)),
        Command("status", (4,)),
        Command("clear_buffer"),
    ]


def test_a_command_split_across_writes_waits_for_its_end() -> None:
    stream = CommandStream()
    assert stream.feed(b"\x1d") == []
    assert stream.feed(b"v0\x00\x01\x00") == []
    assert stream.pending == b"\x1dv0\x00\x01\x00"
    assert stream.feed(b"\x02\x00\xff\x80X") == [
        Command("raster", (0, 1, 2), b"\xff\x80"),
        Command("text", data=b"X"),
    ]
    assert stream.pending == b""


def test_byte_by_byte_equals_all_at_once() -> None:
    """Every command python-escpos sends for a busy page has a known length."""
    p = Dummy(profile="TM-T20II")
    p.hw("INIT")
    p.set(align="center", bold=True, underline=1, font="b", invert=True, double_height=True)
    p.set(custom_size=True, width=8, height=8, smooth=True, flip=False, density=4)
    p.textln("café A001")
    p.qr("https://example.org/t", native=True, size=5)
    p.qr("https://example.org/t", native=False)
    p.line_spacing(40)
    p.line_spacing()
    p.control("HT")
    p.print_and_feed(3)
    p.buzzer()
    p.cashdraw(2)
    p.cut()
    whole = commands(p.output)
    stream = CommandStream()
    piecewise = [c for i in range(len(p.output)) for c in stream.feed(p.output[i : i + 1])]
    merged: list[Command] = []
    for c in piecewise:  # text may arrive in pieces; join them to compare
        if merged and c.op == merged[-1].op == "text":
            merged[-1] = Command("text", data=merged[-1].data + c.data)
        else:
            merged.append(c)
    assert merged == whole
    assert not [c for c in whole if c.op == "unknown"]
