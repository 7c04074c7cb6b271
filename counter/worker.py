"""One command at a time, off the GPIO thread.

A key press must return at once (lgpio calls us on its own thread, mock pins
on the presser's), while a command waits for the kiosk's reply. So commands
run on one worker thread. While one is queued or in flight the worker is
*busy* and refuses new work: staff who press Next three times on a slow
network call one customer, not three, and see "BUSY" on the board.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class CommandWorker:
    """Runs submitted jobs on one thread; ``submit`` returns None while a job is pending."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._busy = False

    @property
    def busy(self) -> bool:
        return self._busy

    def submit(self, job: Callable[[], T]) -> Future[T] | None:
        with self._lock:
            if self._busy:
                return None
            self._busy = True

        def run() -> T:
            try:
                return job()
            finally:
                # Free before the future resolves, so whoever waits on it can press again at once.
                with self._lock:
                    self._busy = False

        return self._pool.submit(run)

    def close(self) -> None:
        """Finish the job in flight (it ends at the command timeout at worst) and stop the thread."""
        self._pool.shutdown(wait=True, cancel_futures=True)
