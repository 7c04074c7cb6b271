"""The board under a real Wayland kiosk compositor, as on a Pi: cage, read back with grim.

The real ``giliran display`` process draws through SDL's wayland driver (Mesa's
EGL loaded) into cage, nested in Xvfb. What grim reads from the compositor must
be exactly the board's own snapshot, outside the clock; the clock must move;
and when the output changes size (another screen, another mode) the board must
fill it, laid out for it. About 10 s.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pygame
import pytest

from display.layout import board_layout
from display.sample import sample_board
from giliran.protocol import NodeStatus, decode
from hardware_sim.compositor import NestedCage, missing_programs

pytestmark = pytest.mark.platform

#: Long enough ago that the sample's newest call does not flash.
SAMPLE_AT = dt.datetime(2026, 11, 24, 10, 24, 37, tzinfo=dt.UTC)


@pytest.fixture
def cage(tmp_path: Path):  # type: ignore[no-untyped-def]
    missing = missing_programs()
    if missing:
        pytest.skip(f"no {', '.join(missing)} here (./dev setup installs them)")
    with NestedCage(tmp_path / "cage", size=(1920, 1080)) as compositor:
        yield compositor


def without_clock(path: Path) -> tuple[tuple[int, int], bytes]:
    """The picture's pixels with the clock and date blanked (they move between two captures)."""
    image = pygame.image.load(str(path))
    image.fill((255, 0, 255), board_layout(image.get_size(), banner=False, notice=False).clock)
    return image.get_size(), pygame.image.tobytes(image, "RGB")


def clock_pixels(path: Path) -> bytes:
    image = pygame.image.load(str(path))
    return pygame.image.tobytes(image.subsurface(board_layout(image.get_size(), banner=False, notice=False).clock),
                                "RGB")


def test_the_board_under_cage(cage: NestedCage, start_board, connect, recorder, broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    kiosk = connect("kiosk", "kiosk")
    kiosk.publish(kiosk.topics.board, sample_board(broker.site, SAMPLE_AT), retain=True).wait(5)
    tech = connect("technician", "technician")
    statuses = recorder()
    tech.subscribe(tech.topics.status("display-hall"), statuses)
    board = start_board("hall", {**cage.client_env(), "SDL_AUDIODRIVER": "dummy"})
    try:
        for w, h in [(1920, 1080), (1280, 720), (1080, 1920)]:
            cage.resize(w, h)
            statuses.wait_for(lambda m, size=f"{w}x{h}": decode(m.payload, NodeStatus).details.get("screen") == size,
                              timeout=20)
            # The status comes before the frame that fills the new size: compare until they agree.
            deadline = time.monotonic() + 5
            while True:
                snap = without_clock(board.snapshot(tech, tmp_path / f"snapshot-{w}x{h}.png"))
                screen = without_clock(cage.screenshot(tmp_path / f"screen-{w}x{h}.png"))
                if screen == snap or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert screen[0] == (w, h) and snap[0] == (w, h)
            assert screen == snap, f"the screen at {w}x{h} is not the board's own snapshot"
        first = cage.screenshot(tmp_path / "tick-1.png")
        time.sleep(1.1)
        second = cage.screenshot(tmp_path / "tick-2.png")
        assert clock_pixels(first) != clock_pixels(second), "the clock did not move"
        assert without_clock(first) == without_clock(second)
        assert board.proc.poll() is None, board.output()
    finally:
        kiosk.publish(kiosk.topics.board, b"", retain=True).wait(5)
        board.stop()
