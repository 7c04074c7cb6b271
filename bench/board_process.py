"""A real display node in a process of its own that says when an expected number is in the frame it presents.

Started by ``bench/call.py``, one process per board, as on site where every
board is its own Pi: each has its own interpreter, so six boards render in
parallel as far as the machine's cores allow, not one at a time behind one GIL.
The board runs the same frame loop as ``giliran display`` (a 20 fps tick, and a
frame at once when a board state arrives) on an SDL screen (``dummy`` or
``offscreen`` driver), through the real broker with its own account.

The pixels are read, not the state: after each ``pygame.display.update`` whose
rects touch the now-calling number, the number's box on the presented screen
is compared with the expected number rendered alone in the same font, size
and colours (flashing or steady): the number counts as shown only when the
inked pixels are exactly those.

==================  ===========================================================
stdin               stdout
==================  ===========================================================
(start)             ``READY`` once connected, with the retained state on screen
``EXPECT B012``     ``OK B012``: from now on, watch for B012 in presented frames
(a frame shows it)  ``SHOWN B012 <t> <cpu>``: ``t`` = ``time.monotonic()`` just after
                    the ``display.update`` of that frame (CLOCK_MONOTONIC, comparable
                    across processes); ``cpu`` = the CPU seconds the frame loop spent
                    drawing and presenting it
end of input        the board stops and the process exits 0
==================  ===========================================================
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from giliran.config import SiteConfig

Ink = tuple[tuple[int, int], bytes]
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Watch:
    """The number a board looks for: its box on screen and its two looks (background, inked pixels)."""

    number: str
    box: object  # pygame.Rect; pygame is imported after SDL_VIDEODRIVER is set
    looks: list[tuple[Colour, Ink]]


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--display", required=True)
    parser.add_argument("--broker-port", type=int, required=True)
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--driver", default="dummy", choices=["dummy", "offscreen"])
    args = parser.parse_args()
    os.environ["SDL_VIDEODRIVER"] = args.driver
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from bench.call import call_site

    site = call_site()
    broker = msgspec.structs.replace(site.broker, host="127.0.0.1", port=args.broker_port, tls=False,
                                     credentials_dir=str(args.credentials))
    run_board(msgspec.structs.replace(site, broker=broker), args.display)


def run_board(site: SiteConfig, display_id: str) -> None:
    import pygame

    from display.frames import present_loop
    from display.layout import now_parts
    from display.node import DisplayNode
    from display.render import number_surface
    from display.text import Fonts
    from display.theme import theme_for
    from giliran.mqtt import credentials_for

    pygame.display.init()
    pygame.font.init()
    config = site.display(display_id)
    screen = pygame.display.set_mode(config.resolution)
    node = DisplayNode(site, display_id, credentials_for(site, f"display-{display_id}"), screen)
    theme = theme_for(config.theme)
    fonts = Fonts()
    requests: queue.Queue[str | None] = queue.Queue()
    stop = threading.Event()
    watching: list[Watch] = []  # at most one
    ready = False

    def read_stdin() -> None:
        for line in sys.stdin:
            requests.put(line.strip())
        requests.put(None)

    def ink(surface: pygame.Surface, rect: pygame.Rect, bg: tuple[int, int, int]) -> Ink:
        region = surface.subsurface(rect).copy()
        region.set_colorkey(bg)
        box = region.get_bounding_rect()
        region.set_colorkey(None)
        return box.size, pygame.image.tobytes(region.subsurface(box), "RGB")

    def alone(number: str, box: pygame.Rect, fg: tuple[int, int, int], bg: tuple[int, int, int]) -> Ink:
        ref = pygame.Surface(box.size, 0, screen)
        ref.fill(bg)
        ref.blit(number_surface(fonts, number, box.size, fg), (0, 0))
        return ink(ref, ref.get_rect(), bg)

    def each_frame() -> None:
        """Between frames, in the frame loop's thread (pygame's fonts are not shared across threads)."""
        nonlocal ready
        if not ready and node.state is not None and node.view.layout is not None:
            ready = True
            _emit("READY")
        while True:
            try:
                request = requests.get_nowait()
            except queue.Empty:
                return
            if request is None:
                stop.set()
                return
            number = request.removeprefix("EXPECT ")
            assert node.view.layout is not None
            box = now_parts(node.view.layout.now, node.view.layout.unit).number
            flashing = (theme.flash_panel, alone(number, box, theme.flash_text, theme.flash_panel))
            steady = (theme.now_panel, alone(number, box, theme.now_number, theme.now_panel))
            watching[:] = [Watch(number, box, [flashing, steady])]
            _emit(f"OK {number}")

    frame_cpu = [0.0]

    def frame() -> list[pygame.Rect]:
        frame_cpu[0] = time.thread_time()
        return node.frame()

    def present(rects: list[pygame.Rect]) -> None:
        pygame.display.update(rects)
        at, cpu = time.monotonic(), time.thread_time() - frame_cpu[0]
        if not watching:
            return
        watch = watching[0]
        assert isinstance(watch.box, pygame.Rect)
        if watch.box.collidelist(rects) >= 0 and any(ink(screen, watch.box, bg) == look for bg, look in watch.looks):
            _emit(f"SHOWN {watch.number} {at:.6f} {cpu:.6f}")
            watching.clear()

    threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
    node.start()
    try:
        present_loop(frame, present, node.pacer, stop, each_frame)
    finally:
        node.close()
        pygame.quit()


if __name__ == "__main__":
    main()
