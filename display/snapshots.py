"""Save every display of a site as a PNG, with the busy sample state.

For the README's pictures and for checking a new theme or layout by eye:

    python -m display.snapshots examples/site.toml docs/images

writes ``board-<width>x<height>.png`` per display (offscreen, no screen needed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path

import pygame

from display.board import BoardView
from display.sample import sample_board, sample_notice, with_call
from display.text import Fonts
from giliran.config import SiteConfig, load_site

log = logging.getLogger(__name__)

#: A Tuesday mid-morning in the site's zone; a fixed moment makes identical pictures.
MOMENT = (2026, 11, 24, 10, 24, 37)


def save_boards(site: SiteConfig, out: Path, flash: bool = False) -> list[Path]:
    """Render each display of ``site`` once and save it; the paths written."""
    now = dt.datetime(*MOMENT, tzinfo=site.site.zone)
    state = sample_board(site, now)
    fonts = Fonts()
    paths = []
    for display in site.displays:
        w, h = display.resolution
        surface = pygame.Surface((w, h))
        view = BoardView(display, site, surface, clock=now.timestamp, fonts=fonts)
        view.update_state(state)
        if flash:
            newest = state.calls[0]
            view.update_state(with_call(state, newest.number, newest.counter, now, recall=True))
        view.set_notice(sample_notice(now))
        view.render()
        path = out / f"board-{w}x{h}.png"
        view.snapshot(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="site file, e.g. examples/site.toml")
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--flash", action="store_true", help="show the now-calling panel mid-flash")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in save_boards(load_site(args.site), args.out, args.flash):
        print(path)


if __name__ == "__main__":
    main()
