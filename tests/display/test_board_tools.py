"""The board's helper tools: idle-cost measurement and PNG snapshots of every display."""

from __future__ import annotations

from pathlib import Path

import pygame

from display.measure import measure_idle
from display.snapshots import save_boards
from giliran.config import SiteConfig


def test_board_idle_board_redraws_once_a_second(site: SiteConfig) -> None:
    cost = measure_idle(site.display("lobby"), site, seconds=3, fps=10)
    assert cost.redraws == 3  # the clock, nothing else
    assert cost.render_cpu_s > 0 and cost.cpu_share < 0.5
    assert "of a core" in str(cost)


def test_board_scrolling_notice_redraws_every_frame(site: SiteConfig) -> None:
    cost = measure_idle(site.display("lobby"), site, seconds=1, fps=10, notice=True)
    assert cost.redraws == 10


def test_board_snapshots_of_every_display(site: SiteConfig, tmp_path: Path) -> None:
    paths = save_boards(site, tmp_path)
    assert [p.name for p in paths] == ["board-1920x1080.png", "board-1080x1920.png", "board-1280x720.png"]
    for path, display in zip(paths, site.displays, strict=True):
        assert pygame.image.load(str(path)).get_size() == display.resolution
