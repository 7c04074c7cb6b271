"""Whether the kernel says its clock is synchronized: chrony (or another NTP daemon) clears its 'unsync' flag.

Read with ``adjtimex(2)`` in read-only mode (``modes`` = 0); its return value
is the clock state, ``TIME_ERROR`` (5) while the clock is not synchronized.
A Pi with an RTC but no NTP reads as not synchronized, which is right: the
ledger then judges the boot time itself (see giliran.ledger_clock).
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

TIME_ERROR = 5
#: Larger than ``struct timex`` on every Linux ABI (208 bytes on 64-bit); zeroed, so ``modes`` is 0.
_TIMEX_BYTES = 512


def kernel_synchronized() -> bool:
    """True when an NTP daemon keeps the system clock synchronized; False when not, or when it cannot be read."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        state = libc.adjtimex(ctypes.create_string_buffer(_TIMEX_BYTES))
    except (OSError, AttributeError) as exc:  # not Linux, or no adjtimex in this libc
        log.debug("cannot read the kernel's clock state: %s", exc)
        return False
    return bool(0 <= state < TIME_ERROR)
