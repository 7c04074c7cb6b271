"""``giliran demo --window``: keys map to kiosk buttons and counter keys."""

from __future__ import annotations

from hardware_sim.interactive import key_action


def test_keys_map_to_buttons_and_counters(site) -> None:  # type: ignore[no-untyped-def]
    assert key_action("a", False, site) == ("press", "A")
    assert key_action("p", True, site) == ("press", "P")
    assert key_action("3", False, site) == ("next", 3)
    assert key_action("3", True, site) == ("done", 3)
    assert key_action("9", False, site) is None  # no counter 9
    assert key_action("z", False, site) is None  # no category Z
    assert key_action("escape", False, site) == ("quit", 0)
