"""The checks the fault tests rely on do fail when an event is missing, doubled or unacknowledged (in memory)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from service.application.context import Actor, CommandContext
from service.application.handoff import Handoff
from tests.faults.checks import check_every_event
from tests.faults.harness import Command, handoff_steps
from tests.faults.school import DISTRICT, SCHOOL, STAFF, seed_school
from tests.support import SECRET

CALLS = {
    "check-in": lambda h, c, b: h.care.check_in(c, "K001", b["place_code"], None, None),
    "transfer": lambda h, c, b: h.care.transfer(c, "K001", b["to_custodian_id"], b["to_place_code"]),
    "guardian-arrival": lambda h, c, b: h.care.register_arrival(c, "K001", b["guardian_id"], "pickup_code", "2468"),
    "confirmation": lambda h, c, b: h.care.confirm(c, "K001", b["guardian_id"], True, True),
    "release": lambda h, c, b: h.care.release(c, "K001", b["guardian_id"]),
}


@pytest.fixture
def handed_over() -> Iterator[tuple[Handoff, list[Command]]]:
    """K001 taken through the whole handoff in memory, each command acknowledged as the API would."""
    handoff = Handoff({"PERSISTENCE_MODULE": "eventsourcing.popo"}, secret_key=SECRET)  # the real clock, as seeded
    seed_school(handoff, 2)
    commands = []
    for path, who, body in handoff_steps("K001", 0):
        command = Command("K001", path, who, body)
        context = CommandContext(
            Actor(who, STAFF[who], SCHOOL, DISTRICT), SCHOOL, "tablet", handoff.clock(), command.key, path, body
        )
        command.status, command.answer = 200, CALLS[path](handoff, context, body)
        commands.append(command)
    yield handoff, commands
    handoff.close()


def test_the_checks_pass_on_a_clean_log(handed_over: tuple[Handoff, list[Command]]) -> None:
    handoff, commands = handed_over
    assert check_every_event(handoff, commands, ["K001"]) > len(commands)


def test_the_checks_catch_an_acknowledged_command_that_is_not_stored(
    handed_over: tuple[Handoff, list[Command]],
) -> None:
    handoff, commands = handed_over
    with pytest.raises(AssertionError, match="acknowledged"):
        check_every_event(handoff, [*commands, replace(commands[0], key="fault-never-stored")], ["K001"])


def test_the_checks_catch_a_stored_command_that_was_never_acknowledged(
    handed_over: tuple[Handoff, list[Command]],
) -> None:
    handoff, commands = handed_over
    with pytest.raises(AssertionError, match="not acknowledged, yet 2 event"):
        check_every_event(handoff, [replace(commands[0], status=None), *commands[1:]], ["K001"])


def test_the_checks_catch_a_stored_event_no_command_accounts_for(handed_over: tuple[Handoff, list[Command]]) -> None:
    handoff, commands = handed_over
    with pytest.raises(AssertionError, match="K001: stored"):
        check_every_event(handoff, commands[:-1], ["K001"])


def test_an_abandoned_command_may_be_stored_whole(handed_over: tuple[Handoff, list[Command]]) -> None:
    handoff, commands = handed_over
    abandoned = replace(commands[-1], status=None, answer=None, abandoned=True)
    assert check_every_event(handoff, [*commands[:-1], abandoned], ["K001"])
