"""``giliran demo --window``: the virtual office driven by hand, the hall board in a window.

Keys: a category's prefix letter presses its kiosk button (the ticket is
saved as a PNG); 1-9 press Next at that counter, Shift+1-9 Done; Esc quits.
The office runs on the real clock, so boards flash and the PA (WAV files in
the output folder) keeps real time.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pygame

from display.voices_build import build_voice_pack
from giliran.config import SiteConfig
from hardware_sim.office import VirtualOffice

log = logging.getLogger(__name__)

WINDOW = (1280, 720)


def key_action(key_name: str, shift: bool, site: SiteConfig) -> tuple[str, str | int] | None:
    """What a key does: ('press', 'A'), ('next', 3), ('done', 3), ('quit', 0) or None."""
    if key_name == "escape":
        return ("quit", 0)
    if len(key_name) == 1 and key_name.upper() in {c.prefix for c in site.categories}:
        return ("press", key_name.upper())
    if key_name.isdigit() and int(key_name) in {c.id for c in site.counters}:
        return ("done" if shift else "next", int(key_name))
    return None


def run_interactive(site: SiteConfig, out: Path) -> int:
    pygame.display.init()
    pygame.font.init()
    window = pygame.display.set_mode(WINDOW)
    pygame.display.set_caption("Giliran demo: letters = kiosk buttons, 1-6 = Next, Shift+1-6 = Done, Esc = quit")
    voices = out / "voices"
    for lang in site.site.languages:
        build_voice_pack(lang, voices / lang)
    (out / "tickets").mkdir(parents=True, exist_ok=True)
    hall = next((d.id for d in site.displays if d.pa), site.displays[0].id)
    with VirtualOffice(site, out / "run", clock=time.time, voices_dir=voices) as office:
        board = office.board(hall)
        running = True
        while running:
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    running = False
                elif event.type == pygame.KEYDOWN:
                    action = key_action(pygame.key.name(event.key), bool(event.mod & pygame.KMOD_SHIFT), site)
                    running = action is None or action[0] != "quit"
                    if action is not None and running:
                        perform(office, action, out)
            office.frame()
            window.blit(pygame.transform.smoothscale(board.surface, WINDOW), (0, 0))
            pygame.display.flip()
            time.sleep(0.05)
    pygame.quit()
    return 0


def perform(office: VirtualOffice, action: tuple[str, str | int], out: Path) -> None:
    kind, target = action
    if kind == "press":
        before = len(office.printer.tickets())
        office.press(str(target))
        tickets = office.printer.tickets()
        if len(tickets) > before:
            path = office.printer.paper_png(out / "tickets" / f"ticket-{len(tickets):03d}.png", ticket=len(tickets) - 1)
            print(f"printed {path}")
    else:
        reply = office.counter(int(target)).press(kind)
        print(f"counter {target} {kind}: {reply.ticket.number if reply and reply.ticket else reply}")
