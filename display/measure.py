"""What an idle board costs: render N seconds of a quiet hall and count the CPU time.

A Pi drives the board all day, mostly with nothing new to show, so the idle
cost is the number that matters. The frames run on a simulated clock (no
sleeping), on SDL's offscreen driver with real ``pygame.display.update``
calls, so the figure is CPU time per idle second of wall time:

    python -m display.measure examples/site.toml --display hall --seconds 60
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pygame

from display.board import BoardView
from display.sample import sample_board, sample_notice
from giliran.config import Display, SiteConfig, load_site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdleCost:
    """CPU spent rendering ``seconds`` of an idle board at ``fps`` frames a second."""

    seconds: float
    fps: int
    render_cpu_s: float
    update_cpu_s: float
    redraws: int
    dirty_px: int

    @property
    def cpu_share(self) -> float:
        """Share of one core the board takes while idle, screen updates included (0.01 = 1 %)."""
        return (self.render_cpu_s + self.update_cpu_s) / self.seconds

    def __str__(self) -> str:
        frames = int(self.seconds * self.fps)
        return (f"{self.seconds:g} s at {self.fps} fps: render {self.render_cpu_s * 1000:.0f} ms + "
                f"display.update {self.update_cpu_s * 1000:.0f} ms CPU = {self.cpu_share:.2%} of a core; "
                f"{self.redraws} of {frames} frames redrew, "
                f"{self.dirty_px / self.seconds / 1000:.1f} kpx/s updated")


def measure_idle(display: Display, site: SiteConfig, seconds: float = 60, fps: int = 20,
                 notice: bool = False) -> IdleCost:
    """Render ``seconds`` of a busy but quiet board (no new calls) and measure its CPU time."""
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    pygame.display.init()
    try:
        screen = pygame.display.set_mode(display.resolution)
        start = dt.datetime(2026, 11, 24, 10, 0, tzinfo=site.site.zone)
        now = start.timestamp()
        view = BoardView(display, site, screen, clock=lambda: now)
        view.update_state(sample_board(site, start - dt.timedelta(seconds=display.flash_s + 1)))
        if notice:
            view.set_notice(sample_notice(start))
        pygame.display.update(view.render(now))
        redraws = dirty_px = 0
        render_cpu = update_cpu = 0.0
        for frame in range(1, int(seconds * fps) + 1):
            now = start.timestamp() + frame / fps
            t0 = time.process_time()
            rects = view.render(now)
            t1 = time.process_time()
            if rects:
                pygame.display.update(rects)
                redraws += 1
                dirty_px += sum(r.w * r.h for r in rects)
            render_cpu += t1 - t0
            update_cpu += time.process_time() - t1
    finally:
        pygame.display.quit()
    return IdleCost(seconds, fps, render_cpu, update_cpu, redraws, dirty_px)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="site file, e.g. examples/site.toml")
    parser.add_argument("--display", help="display id (default: every display)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--fps", type=int, default=20)
    parser.add_argument("--notice", action="store_true", help="with a scrolling notice")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    site = load_site(args.site)
    displays = [site.display(args.display)] if args.display else site.displays
    for display in displays:
        cost = measure_idle(display, site, args.seconds, args.fps, args.notice)
        w, h = display.resolution
        print(f"{display.id} {w}x{h}: {cost}")


if __name__ == "__main__":
    main()
