"""Debounce and the key-repeat guard, on a clock the test moves."""

from __future__ import annotations

from giliran.press_guard import KeyGuard


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def guard(clock: Clock) -> KeyGuard:
    return KeyGuard(debounce_s=0.05, repeat_s=1.0, clock=clock, free_keys=("transfer",))


def test_contact_bounce_is_one_press_and_not_counted() -> None:
    clock = Clock()
    keys = guard(clock)
    assert keys.pressed("next")
    keys.released("next")
    clock.t += 0.01
    assert not keys.pressed("next")
    assert keys.ignored == 0


def test_a_glitch_while_the_key_is_held_is_not_a_second_press() -> None:
    clock = Clock()
    keys = guard(clock)
    assert keys.pressed("next")
    clock.t += 30  # held for half a minute, then the contact lifts for a moment
    keys.released("next")
    clock.t += 0.002
    assert not keys.pressed("next")


def test_a_quick_second_press_is_ignored_and_counted_a_later_one_counts() -> None:
    clock = Clock()
    keys = guard(clock)
    assert keys.pressed("next")
    clock.t += 0.2
    keys.released("next")
    clock.t += 0.3
    assert not keys.pressed("next")
    assert keys.ignored == 1
    keys.released("next")
    clock.t += 1.0
    assert keys.pressed("next")


def test_keys_are_guarded_one_by_one_and_transfer_may_step_quickly() -> None:
    clock = Clock()
    keys = guard(clock)
    assert keys.pressed("next")
    assert keys.pressed("done")
    for _ in range(3):
        assert keys.pressed("transfer")
        clock.t += 0.1
        keys.released("transfer")
        clock.t += 0.1
    assert keys.ignored == 0
