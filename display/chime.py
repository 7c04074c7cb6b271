"""The ding-dong before every call, synthesized: no downloaded sound, same bytes every time.

Two bell-like tones a major third apart (E5 then C5), each a fundamental with
two softer harmonics that die away faster, as a struck bar does. A 5 ms attack
and a short fade at the end keep it free of clicks on a PA amplifier.
"""

from __future__ import annotations

import math
from array import array

from display.clip import FULL_SCALE, Clip

DING_HZ = 659.25  # E5
DONG_HZ = 523.25  # C5
_PARTIALS = ((1.0, 1.0, 1.0), (2.0, 0.3, 2.0), (3.0, 0.12, 3.0))  # (ratio, level, decay speed)


def _tone(t: float, freq: float, decay_s: float) -> float:
    if t < 0:
        return 0.0
    attack = min(1.0, t / 0.005)
    return attack * sum(
        level * math.exp(-t * speed / decay_s) * math.sin(2 * math.pi * freq * ratio * t)
        for ratio, level, speed in _PARTIALS
    )


def chime(rate: int, peak: float = 0.4, dong_at_s: float = 0.45, length_s: float = 1.5) -> Clip:
    """Ding at 0 s, dong at ``dong_at_s``; ``peak`` of full scale at the loudest sample."""
    n = round(rate * length_s)
    fade = round(rate * 0.02)
    raw = [
        _tone(i / rate, DING_HZ, 0.3) + _tone(i / rate - dong_at_s, DONG_HZ, 0.45)
        for i in range(n)
    ]
    for i in range(n - fade, n):
        raw[i] *= (n - i) / fade
    gain = peak * FULL_SCALE / max(abs(x) for x in raw)
    return Clip(rate, array("h", (round(x * gain) for x in raw)))
