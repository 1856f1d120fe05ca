"""A retried command gets its stored answer back in the shape the API answers in now: an answer stored before the
answers' shape was versioned, and one stored in an older shape, are both brought up to date."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import StoredEvent

from service.application import answers
from service.application.handoff import Handoff, answer_id
from tests.support import ctx, make_handoff, setup_school


@pytest.fixture
def handoff() -> Handoff:
    h = make_handoff()
    setup_school(h)
    return h


def test_an_answer_stored_before_answers_had_a_version_is_replayed(handoff: Handoff) -> None:
    """The row is written as the first release wrote it: no `response_version`, no class version."""
    first = ctx(key="retry-me-1")
    answer = handoff.care.check_in(first, "C1", "T1", None, None)
    (stored,) = handoff.recorder.select_events(answer_id(first))
    state = handoff.mapper.transcoder.decode(stored.state)
    assert state.pop("response_version") == answers.ANSWER_VERSION and state.pop("class_version") == 2
    old = StoredEvent(stored.originator_id, 1, stored.topic, handoff.mapper.transcoder.encode(state))
    copy = make_handoff()
    setup_school(copy)
    copy.recorder.insert_events([old])
    again = copy.care.check_in(ctx(key="retry-me-1"), "C1", "T1", None, None)
    assert again == {**answer, "replayed": True}


def test_an_answer_in_an_older_shape_is_brought_to_the_current_one() -> None:
    """A made-up change of shape: version 2 renamed `outcome` to `result` and added `warnings`."""
    upgrades = {1: lambda a: {**{k: v for k, v in a.items() if k != "outcome"}, "result": a["outcome"], "warnings": []}}
    stored = {"outcome": "recorded", "child_id": "C1"}
    assert answers.current(stored, 1, upgrades, to=2) == {"result": "recorded", "child_id": "C1", "warnings": []}
    assert answers.current(stored, 2, upgrades, to=2) == stored, "already current: as stored"
    assert answers.current(stored, 3, upgrades, to=2) == stored, "stored by a newer release: as stored"


def test_every_version_below_the_current_one_has_its_upgrade() -> None:
    assert sorted(answers.UPGRADES) == list(range(1, answers.ANSWER_VERSION))
