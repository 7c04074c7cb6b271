"""The counter as staff meet it: press a mock key, the kiosk's ledger acts, the number board shows it.

Real Mosquitto, real kiosk LedgerService, gpiozero mock pins, and a pty number board read back byte
for byte. Time moves only when a test moves ``clock``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import msgspec
import pytest
from gpiozero.pins.mock import MockFactory

from counter.cli import run_counter_command
from counter.commands import CounterClient
from counter.node import run_counter_node
from counter.serial_display import RETRY_S
from giliran.errors import GiliranError
from giliran.protocol import (
    CounterReply,
    ErrorEvent,
    NodeStatus,
    TechCommand,
    TechReply,
    TicketView,
    decode,
    now_utc,
)
from hardware_sim.counter_board import VirtualCounterBoard
from kiosk.service import LedgerService

BLANK = " " * 7  # the clear line of the default template "{number:>4} {counter:>2}\r\n"
NEXT_PIN = 5  # counter 1's keypad in examples/site.toml


def issue(service: LedgerService, category: str) -> str:
    """A customer takes a ticket at the kiosk."""
    ticket = service.ledger.confirm(service.ledger.reserve(category).id)
    service.changed("issued", ticket)
    return ticket.number


def counter_row(service: LedgerService, counter: int):  # type: ignore[no-untyped-def]
    return next(row for row in service.ledger.counters() if row.id == counter)


def events(service: LedgerService, kind: str) -> list:  # type: ignore[type-arg]
    return [e for e in service.ledger.events() if e["kind"] == kind]


def test_next_calls_the_right_ticket_and_the_board_receives_its_number(kiosk, make_node, board) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "birth")  # counter 1 does not serve birth registration
    issue(kiosk, "mykad")
    node = make_node(1)
    reply = node.press("next")
    assert reply is not None and reply.ok and reply.ticket is not None
    assert reply.ticket.number == "A001"
    serving = counter_row(kiosk, 1).serving
    assert serving is not None and serving.number == "A001"
    assert [t.number for t in kiosk.ledger.waiting()] == ["B001"]
    board.wait_for("A001  1")
    # Starting, then the closed counter from the retained board state, then the call.
    assert board.received() == b"WAIT  1\r\n" + BLANK.encode() + b"\r\nA001  1\r\n"


def test_no_one_waiting_shows_the_idle_text_and_opens_the_counter(kiosk, make_node, board, clock) -> None:  # type: ignore[no-untyped-def]
    node = make_node(1)
    before = [tuple(e) for e in kiosk.ledger.events()]
    reply = node.press("next")
    assert reply is not None and not reply.ok and reply.error is not None
    assert reply.error.code == "nobody_waiting"
    board.wait_for("----  1")
    # Next is also "I am open": the counter stays open for the next customer (only that changed).
    assert [e["kind"] for e in kiosk.ledger.events()[len(before):]] == ["counter_open"]
    assert counter_row(kiosk, 1).state == "open"
    clock.advance(5)
    node.tick()
    board.wait_for("----  1")  # the notice is over: open and free
    assert board.lines()[-1] == "----  1"


def test_a_bouncing_or_held_next_key_sends_exactly_one_command(kiosk, make_node, clock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        issue(kiosk, "mykad")
    node = make_node(1)
    pin = node.pin_factory.pin(NEXT_PIN)
    pin.drive_low()
    job = node.desk.last_job
    pin.drive_high()  # the contact bounces...
    pin.drive_low()
    clock.advance(3)  # ...and is held down for three seconds, with a glitch
    pin.drive_high()
    pin.drive_low()
    clock.advance(0.5)
    pin.drive_high()  # released
    assert job is not None and job.result(5) is not None
    assert node.desk.last_job is job
    assert [e["ticket"] for e in events(kiosk, "called")] == ["A001"]
    assert (node.guard.ignored, node.desk.stats.refused) == (0, 0)  # bounce is not a press

    clock.advance(2)
    assert node.press("next").ticket.number == "A002"  # type: ignore[union-attr]
    clock.advance(0.3)
    assert node.press("next") is None  # a nervous double press
    assert node.guard.ignored == 1
    assert [e["ticket"] for e in events(kiosk, "called")] == ["A001", "A002"]
    assert [t.number for t in kiosk.ledger.waiting()] == ["A003"]


def test_transfer_steps_through_the_targets_and_done_sends_the_customer(kiosk, make_node, board, clock) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    node = make_node(1)  # transfer_to = ["birth", "collect"]
    node.press("next")
    assert node.press("transfer") is None
    board.wait_for("-> B  1")
    clock.advance(1)
    node.press("transfer")
    board.wait_for("-> K  1")
    clock.advance(1)
    node.press("transfer")
    board.wait_for("-> B  1")  # round again
    clock.advance(1)
    node.press("transfer")
    board.wait_for("-> K  1")
    clock.advance(1)
    reply = node.press("done")
    assert reply is not None and reply.ok and reply.action == "transfer"
    board.wait_for("----  1")
    ticket = kiosk.ledger.find("A001")
    assert ticket is not None and (ticket.category, ticket.state) == ("collect", "waiting")
    assert events(kiosk, "done") == []


def test_a_transfer_choice_lapses_and_done_then_only_finishes(kiosk, make_node, board, clock) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    node = make_node(1)
    node.press("next")
    node.press("transfer")
    board.wait_for("-> B  1")
    clock.advance(6)
    node.tick()
    board.wait_for("A001  1")
    reply = node.press("done")
    assert reply is not None and reply.ok and reply.action == "done"
    ticket = kiosk.ledger.find("A001")
    assert ticket is not None and (ticket.category, ticket.state) == ("mykad", "done")


def test_another_key_cancels_a_transfer_choice(kiosk, make_node, board, clock) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    node = make_node(1)
    node.press("next")
    node.press("transfer")
    board.wait_for("-> B  1")
    reply = node.press("recall")
    assert reply is not None and reply.action == "recall"
    clock.advance(1)
    assert node.press("done").action == "done"  # type: ignore[union-attr]
    assert kiosk.ledger.find("A001").category == "mykad"  # type: ignore[union-attr]
    board.wait_for("----  1")
    # The recall sent the number again, so the board can flash it.
    assert board.lines()[-4:] == ["-> B  1", "A001  1", "A001  1", "----  1"]


def test_transfer_at_a_counter_without_targets_says_so(kiosk, make_node, board) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    node = make_node(3)  # no transfer_to in the site file
    node.press("next")
    node.press("transfer")
    board.wait_for(" ERR  3")
    assert kiosk.ledger.find("A001").state == "called"  # type: ignore[union-attr]


def test_pause_toggles_between_paused_and_open(kiosk, make_node, board, clock) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    node = make_node(1)
    node.press("next")
    reply = node.press("pause")
    assert reply is not None and reply.ok and reply.action == "pause"
    assert counter_row(kiosk, 1).state == "paused"
    board.wait_for("PAUS  1")
    clock.advance(2)
    reply = node.press("pause")
    assert reply is not None and reply.ok and reply.action == "open"
    assert counter_row(kiosk, 1).state == "open"
    board.wait_for("A001  1")


def test_a_customer_rating_is_recorded_and_the_board_keeps_its_number(kiosk, make_node, board, clock) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    node = make_node(1)
    node.press("next")
    node.press("done")
    board.wait_for("----  1")
    reply = node.press("good")
    assert reply is not None and reply.ok
    [event] = events(kiosk, "feedback")
    assert (event["ticket"], event["counter"], json.loads(event["data"])) == ("A001", 1, {"rating": "good"})
    clock.advance(2)
    again = node.press("poor")  # the same customer cannot vote twice
    assert again is not None and again.error is not None and again.error.code == "already_rated"
    assert len(events(kiosk, "feedback")) == 1
    assert board.lines()[-1] == "----  1" and board.lines().count("----  1") == 1


def test_a_press_while_a_command_is_pending_is_refused_with_busy(broker, make_node, board, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    slow_kiosk = connect("kiosk", "kiosk")  # answers only when the test says so
    commands = recorder()
    slow_kiosk.subscribe(slow_kiosk.topics.counter_cmd("+"), commands)
    node = make_node(1, start=False)
    node.start()
    node.mqtt.wait_connected(5)
    node.keypad.press("next")  # returns at once: the command waits on the worker thread
    job = node.desk.last_job
    cmd = commands.wait_for(lambda m: True)
    assert node.press("done") is None
    board.wait_for("BUSY  1")
    assert node.desk.stats.refused == 1 and len(commands.messages) == 1
    ticket = TicketView(number="A007", category="mykad", state="called", issued_at=now_utc())
    answer = CounterReply(ok=True, counter=1, action="next", ticket=ticket, waiting=0)
    slow_kiosk.publish(cmd.response_topic, answer, correlation_data=cmd.correlation_data).wait(5)
    assert job is not None and job.result(5).ticket.number == "A007"  # type: ignore[union-attr]
    board.wait_for("A007  1")


def test_a_press_while_offline_is_refused_and_not_queued(broker, make_node, board) -> None:  # type: ignore[no-untyped-def]
    site = broker.site
    counters = [msgspec.structs.replace(c, serial_display=msgspec.structs.replace(
        c.serial_display, template="{number:>4}|{name}|{text}\r\n")) if c.serial_display else c for c in site.counters]
    node = make_node(1, site=msgspec.structs.replace(site, counters=counters), start=False)
    assert node.press("next") is None
    board.wait_for("WAIT|Kaunter 1|offline")
    assert node.desk.stats.refused == 1 and node.desk.stats.commands == 0


def test_the_board_follows_commands_given_from_the_command_line(kiosk, broker, make_node, board, connect) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    node = make_node(1)
    technician = CounterClient(broker.site, 1, None, node=connect("technician", "technician"))
    assert technician.command("next").ok
    board.wait_for("A001  1")
    assert technician.command("pause").ok
    board.wait_for("PAUS  1")
    assert node.screen.state == "paused"


def test_a_missing_number_board_does_not_stop_the_counter(kiosk, make_node, clock, tmp_path: Path, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    technician = connect("technician", "technician")
    faults, statuses = recorder(), recorder()
    technician.subscribe(technician.topics.event("error"), faults)
    technician.subscribe(technician.topics.status("counter-1"), statuses)
    issue(kiosk, "mykad")
    port = tmp_path / "ttyUSB-not-plugged"
    node = make_node(1, serial_port=str(port))
    reply = node.press("next")
    assert reply is not None and reply.ok
    assert counter_row(kiosk, 1).serving.number == "A001"  # type: ignore[union-attr]
    node.tick()
    fault = decode(faults.wait_for(lambda m: True).payload, ErrorEvent)
    assert fault.code == "display_fault" and str(port) in fault.message
    status = statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("last_result") == "A001")
    details = decode(status.payload, NodeStatus).details
    assert details["display"] == "error" and str(port) in str(details["display_error"])

    with VirtualCounterBoard(port) as plugged_in_later:
        clock.advance(RETRY_S)
        node.tick()
        plugged_in_later.wait_for("A001  1")
        statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("display") == "ok")


def test_a_number_board_pulled_out_mid_day_comes_back_with_the_right_number(kiosk, make_node, board, clock) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    issue(kiosk, "mykad")
    node = make_node(1)
    node.press("next")
    board.wait_for("A001  1")
    board.unplug()
    clock.advance(2)
    reply = node.press("next")
    assert reply is not None and reply.ok and reply.ticket.number == "A002"  # type: ignore[union-attr]
    assert node.status_details()["display"] == "error"
    board.plug()
    node.tick()  # too early: the retry is not due yet
    assert board.lines()[-1] == "A001  1"
    clock.advance(RETRY_S)
    node.tick()
    board.wait_for("A002  1")
    assert node.status_details()["display"] == "ok"


def test_status_and_ping_for_technicians(kiosk, make_node, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    issue(kiosk, "mykad")
    technician = connect("technician", "technician")
    statuses = recorder()
    technician.subscribe(technician.topics.status("counter-1"), statuses)
    node = make_node(1)
    node.press("next")
    msg = statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("last_result") == "A001")
    status = decode(msg.payload, NodeStatus)
    assert (status.state, status.role) == ("online", "counter")
    assert {k: status.details[k] for k in ("display", "shows", "counter_state", "last_action", "commands")} == {
        "display": "ok", "shows": "A001", "counter_state": "open", "last_action": "next", "commands": 1}
    topics = technician.topics
    pong = technician.request(topics.node_cmd("counter-1"), TechCommand(action="ping"), TechReply,
                              response_topic=topics.node_reply("counter-1"))
    assert pong.ok and "counter 1 open" in pong.message and "'A001'" in pong.message
    refused = technician.request(topics.node_cmd("counter-1"), TechCommand(action="test_print"), TechReply,
                                 response_topic=topics.node_reply("counter-1"))
    assert not refused.ok and "only 'ping'" in refused.message


def test_run_counter_node_serves_the_keypad_until_stopped(kiosk, broker, board, connect, recorder) -> None:  # type: ignore[no-untyped-def]
    technician = connect("technician", "technician")
    statuses = recorder()
    technician.subscribe(technician.topics.status("counter-1"), statuses)
    issue(kiosk, "mykad")
    factory = MockFactory()
    stop = threading.Event()
    thread = threading.Thread(target=run_counter_node, args=(broker.site, broker.files.credentials_dir, 1),
                              kwargs={"pin_factory": factory, "serial_port_override": str(board.path),
                                      "stop_event": stop})
    thread.start()
    try:
        statuses.wait_for(lambda m: decode(m.payload, NodeStatus).details.get("counter_state") == "closed")
        factory.pin(NEXT_PIN).drive_low()
        factory.pin(NEXT_PIN).drive_high()
        board.wait_for("A001  1")
    finally:
        stop.set()
        thread.join(10)
        factory.close()
    assert not thread.is_alive()
    board.wait_for(BLANK)  # a stopped counter leaves no stale number in the hall
    statuses.wait_for(lambda m: decode(m.payload, NodeStatus).state == "offline")


def test_pressing_a_key_that_is_not_wired_names_it(make_node) -> None:  # type: ignore[no-untyped-def]
    node = make_node(3, start=False)  # counter 3 has no satisfaction buttons
    with pytest.raises(GiliranError, match="counter 3 has no 'very-good' key wired"):
        node.press("very-good")


def test_an_unknown_counter_is_named_before_anything_starts(broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    factory = MockFactory()
    try:
        with pytest.raises(GiliranError, match=r"has no counter 9 \(counters: 1, 2, 3, 4, 5, 6\)"):
            run_counter_node(broker.site, tmp_path, 9, pin_factory=factory, stop_event=threading.Event())
    finally:
        factory.close()


def test_the_command_line_counter_does_not_throw_the_counter_node_off(kiosk, broker, make_node, board, connect,  # type: ignore[no-untyped-def]
                                                                      recorder, capsys) -> None:
    """`giliran counter 1 next` uses counter 1's account with its own client id and publishes no status:
    sharing the node's id once made the broker drop the node on every use (a false "offline")."""
    issue(kiosk, "mykad")
    node = make_node(1)
    drops: list[bool] = []
    node.mqtt.on_connection(lambda up: drops.append(up))
    tech = connect("technician", "technician")
    statuses = recorder()
    tech.subscribe(tech.topics.status("counter-1"), statuses)
    statuses.wait_for(lambda m: m.retain)
    assert run_counter_command(broker.site, broker.files.credentials_dir, 1, "next", None) == 0
    assert "calling A001" in capsys.readouterr().out
    board.wait_for("A001  1")
    assert drops == [] and node.mqtt.connected
    assert {decode(m.payload, NodeStatus).state for m in statuses.messages} == {"online"}
