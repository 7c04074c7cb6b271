"""What each key does at a counter: keys in, commands to the kiosk out, answers on the board.

- **Next, Recall, No-show, Done**: one command each.
- **Pause** toggles: an open counter is paused; a paused (or closed) one is opened.
- **Transfer** picks a target, **Done** sends: each Transfer press shows the
  next of the counter's ``transfer_to`` categories on the board (``-> B``,
  ``-> K``, ``-> B``...). Done within ``transfer_window_s`` of the last Transfer
  press sends the customer there. Any other staff key, or no key for the
  window, cancels the choice and the board shows the number again. Two
  deliberate presses, and the board always says where the customer will go.
- **very_good / good / poor** (customers' buttons) send ``feedback`` with that
  rating; the board, which faces the hall, does not change.

One command at a time (CommandWorker). A key pressed while a command is
pending is refused, counted, and staff see ``BUSY``: presses are never
queued, because three queued Next presses would call three customers. A key
pressed while the node is offline is refused with ``WAIT`` and not sent:
paho would deliver it after reconnect, long after it meant anything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from counter.commands import CounterClient, describe_reply
from counter.screen import BUSY, NO_TARGETS, OFFLINE, Screen, error_line, transfer_line
from counter.worker import CommandWorker
from giliran.config import Counter, SiteConfig
from giliran.errors import GiliranError, PublishRefused
from giliran.protocol import CounterReply

log = logging.getLogger(__name__)

TRANSFER_WINDOW_S = 5.0
FEEDBACK_KEYS = ("very_good", "good", "poor")


@dataclass
class DeskStats:
    """Counts and the last outcome, for the node's status."""

    commands: int = 0
    refused: int = 0
    last_action: str | None = None
    last_result: str | None = None


class CounterDesk:
    """Turns accepted key presses into commands; ``key()`` is safe to call from any thread."""

    def __init__(self, site: SiteConfig, counter: Counter, client: CounterClient, screen: Screen,
                 clock: Callable[[], float], *, connected: Callable[[], bool],
                 on_change: Callable[[], None] = lambda: None,
                 transfer_window_s: float = TRANSFER_WINDOW_S) -> None:
        self.site = site
        self.counter = counter
        self.client = client
        self.screen = screen
        self.transfer_window_s = transfer_window_s
        self.stats = DeskStats()
        self.last_job: Future[CounterReply | None] | None = None
        self._clock = clock
        self._connected = connected
        self._on_change = on_change
        self._targets = [(cid, site.category(cid).prefix) for cid in counter.transfer_to]
        self._worker = CommandWorker(f"counter-{counter.id}-commands")
        self._lock = threading.Lock()
        self._selected: int | None = None
        self._selected_until = 0.0

    def key(self, key: str) -> Future[CounterReply | None] | None:
        """Act on one accepted press; the future (if a command was sent) resolves to the reply."""
        with self._lock:
            if key == "transfer":
                self._select_next_target()
                return None
            staff = key not in FEEDBACK_KEYS
            target = self._take_selection(confirm=key == "done") if staff else None
            action, category, rating = self._command(key, target)
            online = self._connected()
            job = self._worker.submit(lambda: self._send(action, category, rating)) if online else None
            if job is not None:
                self.last_job = job
                return job
            self.stats.refused += 1
        log.info("counter %d: %s press refused (%s)", self.counter.id, key, "command pending" if online else "offline")
        if staff:
            self.screen.notice(BUSY if online else OFFLINE)
        self._on_change()
        return None

    def close(self) -> None:
        self._worker.close()

    # --- choosing ---------------------------------------------------------------------

    def _command(self, key: str, transfer_to: str | None) -> tuple[str, str | None, str | None]:
        if transfer_to is not None:
            return "transfer", transfer_to, None
        if key == "pause":
            return ("open" if self.screen.state in ("paused", "closed") else "pause"), None, None
        if key in FEEDBACK_KEYS:
            return "feedback", None, key
        return key, None, None

    def _select_next_target(self) -> None:
        if not self._targets:
            log.warning("counter %d: Transfer pressed, but the site file gives it no transfer_to targets",
                        self.counter.id)
            self.screen.notice(NO_TARGETS)
            return
        now = self._clock()
        current = self._selected
        self._selected = (current + 1) % len(self._targets) if current is not None and now < self._selected_until else 0
        self._selected_until = now + self.transfer_window_s
        category, prefix = self._targets[self._selected]
        self.screen.notice(transfer_line(prefix, category), seconds=self.transfer_window_s)

    def _take_selection(self, confirm: bool) -> str | None:
        """The chosen target if this press confirms it; any staff key ends the choice."""
        selected, self._selected = self._selected, None
        if selected is None:
            return None
        category, prefix = self._targets[selected]
        if confirm and self._clock() < self._selected_until:
            return category  # the reply replaces the "-> B" notice
        self.screen.drop_notice(transfer_line(prefix, category))
        return None

    # --- sending (worker thread) -------------------------------------------------------

    def _send(self, action: str, category: str | None, rating: str | None) -> CounterReply | None:
        reply: CounterReply | None = None
        try:
            reply = self.client.command(action, category=category, rating=rating)
        except TimeoutError as exc:
            result = "no_reply"
            log.warning("counter %d: %s: %s", self.counter.id, action, exc)
        except PublishRefused as exc:
            result = "publish_refused"
            log.error("counter %d: %s: %s", self.counter.id, action, exc)
        except GiliranError as exc:
            result = "bad_reply"
            log.error("counter %d: %s: %s", self.counter.id, action, exc)
        else:
            log.info("%s", describe_reply(reply, self.site))
            if reply.ok:
                result = reply.ticket.number if reply.ticket else "ok"
            else:
                result = reply.error.code if reply.error else "refused"
        if action != "feedback":
            if reply is not None:
                self.screen.reply(reply)
            else:
                self.screen.notice(error_line(result))
        with self._lock:
            self.stats.commands += 1
            self.stats.last_action, self.stats.last_result = action, result
        self._on_change()
        return reply
