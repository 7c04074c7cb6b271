"""``giliran counter N ACTION``: a counter's commands from a terminal, with the kiosk's reply printed."""

from __future__ import annotations

import sys
from pathlib import Path

from counter.commands import CounterClient, describe_reply
from giliran.config import SiteConfig
from giliran.errors import NotInSite
from giliran.mqtt import credentials_for

RATINGS = {"very-good": "very_good", "good": "good", "poor": "poor"}


def run_counter_command(site: SiteConfig, credentials_dir: Path, counter: int, action: str,
                        category: str | None, timeout: float = 5.0) -> int:
    """Send one command as counter N; print the reply; exit 0 if the kiosk did it, 1 if not."""
    try:
        site.counter(counter)
    except KeyError:
        raise NotInSite(f"site {site.site.id} has no counter {counter}") from None
    creds = credentials_for(site, f"counter-{counter}", credentials_dir)
    with CounterClient(site, counter, creds, timeout=timeout) as client:
        if action in RATINGS:
            reply = client.command("feedback", rating=RATINGS[action])
        else:
            reply = client.command(action.replace("-", "_"), category=category)
    text = describe_reply(reply, site)
    print(text, file=sys.stdout if reply.ok else sys.stderr)
    return 0 if reply.ok else 1
