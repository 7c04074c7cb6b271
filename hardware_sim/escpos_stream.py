"""Cut an ESC/POS byte stream into commands, as a printer's receive stage does.

A printer reads its input byte by byte and must know where each command ends
before it can act on it; so does the simulator. This module only tokenizes: it
knows the length of every command python-escpos can send (and the common
Epson ones around them), not what they do. :mod:`hardware_sim.escpos_render`
gives them meaning.

Data may arrive in any chunks, even a command split across two writes::

    stream = CommandStream()
    stream.feed(b"\\x1b")          # []  (waits for the rest)
    stream.feed(b"E\\x01Hi\\n")    # [Command('bold', (1,)), Command('text', data=b'Hi'), Command('lf')]
"""

from __future__ import annotations

from dataclasses import dataclass

NUL, LF, HT, FF, CR = 0x00, 0x0A, 0x09, 0x0C, 0x0D
DLE, EOT, ENQ, DC4 = 0x10, 0x04, 0x05, 0x14
ESC, FS, GS = 0x1B, 0x1C, 0x1D

#: Commands a real printer executes the moment they arrive, even while it is
#: offline (no paper, cover open) and holding everything else in its buffer.
REALTIME_OPS = frozenset({"status", "realtime_request", "clear_buffer", "realtime_pulse"})

_CLEAR_BUFFER_TAIL = bytes((1, 3, 20, 1, 6, 2, 8))

# ESC <byte>: (op, number of parameter bytes)
_ESC_FIXED: dict[int, tuple[str, int]] = {
    ord("@"): ("init", 0),
    ord("!"): ("print_mode", 1),
    ord("E"): ("bold", 1),
    ord("G"): ("double_strike", 1),
    ord("-"): ("underline", 1),
    ord("M"): ("font", 1),
    ord("a"): ("align", 1),
    ord("t"): ("codepage", 1),
    ord("d"): ("feed_lines", 1),
    ord("J"): ("feed_dots", 1),
    ord("2"): ("line_spacing_default", 0),
    ord("3"): ("line_spacing", 1),
    ord("+"): ("line_spacing_360", 1),
    ord("A"): ("line_spacing_60", 1),
    ord("{"): ("upside_down", 1),
    ord("r"): ("color", 1),
    ord("="): ("select_peripheral", 1),
    ord("V"): ("rotate", 1),
    ord(" "): ("char_spacing", 1),
    ord("R"): ("charset", 1),
    ord("p"): ("drawer_pulse", 3),
    ord("B"): ("buzzer", 2),
    ord("c"): ("panel", 2),
    ord("K"): ("slip_eject", 1),
    ord("U"): ("unidirectional", 1),
    ord("$"): ("absolute_position", 2),
    ord("\\"): ("relative_position", 2),
    ord("i"): ("cut", 0),
    ord("m"): ("cut", 0),
}

# GS <byte>: (op, number of parameter bytes)
_GS_FIXED: dict[int, tuple[str, int]] = {
    ord("!"): ("size", 1),
    ord("B"): ("invert", 1),
    ord("b"): ("smoothing", 1),
    ord("H"): ("hri_position", 1),
    ord("h"): ("barcode_height", 1),
    ord("w"): ("barcode_width", 1),
    ord("f"): ("hri_font", 1),
    ord("|"): ("density", 1),
    ord("L"): ("left_margin", 2),
    ord("W"): ("print_width", 2),
    ord("P"): ("motion_units", 2),
    ord("a"): ("auto_status", 1),
}

# FS <byte>: (op, number of parameter bytes). A lone FS (python-escpos's
# "slip select") is taken as a one-byte control code.
_FS_FIXED: dict[int, tuple[str, int]] = {
    ord("&"): ("kanji_on", 0),
    ord("."): ("kanji_off", 0),
    ord("!"): ("kanji_mode", 1),
    ord("-"): ("kanji_underline", 1),
    ord("p"): ("nv_image", 2),
}


@dataclass(frozen=True, slots=True)
class Command:
    """One command: ``op`` names it, ``args`` are its small parameters, ``data`` its payload."""

    op: str
    args: tuple[int, ...] = ()
    data: bytes = b""


class CommandStream:
    """Incremental tokenizer: feed bytes, get back the commands they complete."""

    def __init__(self) -> None:
        self._pending = bytearray()

    @property
    def pending(self) -> bytes:
        """Bytes of a command that has begun but not yet ended."""
        return bytes(self._pending)

    def clear(self) -> None:
        """Forget a half-received command (the printer's buffer was cleared)."""
        self._pending.clear()

    def feed(self, data: bytes) -> list[Command]:
        self._pending += data
        commands: list[Command] = []
        pos = 0
        buf = bytes(self._pending)
        while pos < len(buf):
            parsed = _parse_one(buf, pos)
            if parsed is None:
                break
            command, pos = parsed
            commands.append(command)
        del self._pending[:pos]
        return commands


def _parse_one(buf: bytes, i: int) -> tuple[Command, int] | None:
    """The command starting at ``buf[i]`` and where the next one starts; None if incomplete."""
    b = buf[i]
    if b >= 0x20:
        end = i
        while end < len(buf) and buf[end] >= 0x20:
            end += 1
        return Command("text", data=buf[i:end]), end
    simple = {LF: "lf", CR: "cr", HT: "ht", FF: "ff"}
    if b in simple:
        return Command(simple[b]), i + 1
    if b == ESC:
        return _parse_esc(buf, i)
    if b == GS:
        return _parse_gs(buf, i)
    if b == DLE:
        return _parse_dle(buf, i)
    if b == FS:
        if i + 1 >= len(buf):
            return None
        op = _FS_FIXED.get(buf[i + 1])
        if op is None:
            return Command("control", (b,)), i + 1
        return _fixed(buf, i, 2, *op)
    return Command("control", (b,)), i + 1


def _fixed(buf: bytes, i: int, head: int, op: str, nargs: int) -> tuple[Command, int] | None:
    end = i + head + nargs
    if end > len(buf):
        return None
    return Command(op, tuple(buf[i + head : end])), end


def _parse_esc(buf: bytes, i: int) -> tuple[Command, int] | None:
    if i + 1 >= len(buf):
        return None
    code = buf[i + 1]
    if code in _ESC_FIXED:
        return _fixed(buf, i, 2, *_ESC_FIXED[code])
    if code == ord("D"):  # ESC D n1 ... NUL: tab stops
        end = buf.find(bytes((NUL,)), i + 2)
        if end < 0:
            return None
        return Command("tabs", tuple(buf[i + 2 : end])), end + 1
    if code == ord("*"):  # ESC * m nL nH d1...dk: column bit image
        if i + 5 > len(buf):
            return None
        m, n = buf[i + 2], buf[i + 3] + 256 * buf[i + 4]
        end = i + 5 + n * (1 if m in (0, 1) else 3)
        if end > len(buf):
            return None
        return Command("column_image", (m, n), buf[i + 5 : end]), end
    return Command("unknown", data=buf[i : i + 2]), i + 2


def _parse_gs(buf: bytes, i: int) -> tuple[Command, int] | None:
    if i + 1 >= len(buf):
        return None
    code = buf[i + 1]
    if code in _GS_FIXED:
        return _fixed(buf, i, 2, *_GS_FIXED[code])
    if code == ord("V"):  # GS V m [n]: cut, with a feed of n dots when m is 65 or 66
        if i + 2 >= len(buf):
            return None
        m = buf[i + 2]
        if m in (65, 66):
            return _fixed(buf, i, 2, "cut", 2)
        return Command("cut", (m,)), i + 3
    if code == ord("v"):  # GS v 0 m xL xH yL yH d1...dk: raster bit image
        if i + 8 > len(buf):
            return None
        m = buf[i + 3]
        width_bytes = buf[i + 4] + 256 * buf[i + 5]
        height = buf[i + 6] + 256 * buf[i + 7]
        end = i + 8 + width_bytes * height
        if end > len(buf):
            return None
        return Command("raster", (m, width_bytes, height), buf[i + 8 : end]), end
    if code == ord("("):  # GS ( X pL pH data: 2D codes (k), graphics (L), ...
        if i + 5 > len(buf):
            return None
        length = buf[i + 3] + 256 * buf[i + 4]
        end = i + 5 + length
        if end > len(buf):
            return None
        return Command(f"gs({chr(buf[i + 2])}", data=buf[i + 5 : end]), end
    if code == ord("k"):  # GS k m ...: barcode, NUL-terminated (m <= 6) or counted
        if i + 2 >= len(buf):
            return None
        m = buf[i + 2]
        if m <= 6:
            end = buf.find(bytes((NUL,)), i + 3)
            if end < 0:
                return None
            return Command("barcode", (m,), buf[i + 3 : end]), end + 1
        if i + 3 >= len(buf):
            return None
        end = i + 4 + buf[i + 3]
        if end > len(buf):
            return None
        return Command("barcode", (m,), buf[i + 4 : end]), end
    return Command("unknown", data=buf[i : i + 2]), i + 2


def _parse_dle(buf: bytes, i: int) -> tuple[Command, int] | None:
    if i + 1 >= len(buf):
        return None
    code = buf[i + 1]
    if code == EOT:
        return _fixed(buf, i, 2, "status", 1)
    if code == ENQ:
        return _fixed(buf, i, 2, "realtime_request", 1)
    if code == DC4:
        if i + 2 >= len(buf):
            return None
        fn = buf[i + 2]
        if fn == 8:
            end = i + 3 + len(_CLEAR_BUFFER_TAIL)
            if end > len(buf):
                return None
            if buf[i + 3 : end] == _CLEAR_BUFFER_TAIL:
                return Command("clear_buffer"), end
            return Command("unknown", data=buf[i:end]), end
        if fn == 1:
            return _fixed(buf, i, 3, "realtime_pulse", 2)
        return Command("unknown", data=buf[i : i + 3]), i + 3
    return Command("control", (DLE,)), i + 1
