"""#18 item 1: each process keeps the states it loaded and reads only the events stored after them. A state cached in
one process is never staler than the log: a guardian revoked in another process is refused at the next release."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aggregates import custody, guardians
from events.custody import ChildReleased
from service.application.handoff import Handoff, answer_id
from service.infra.group_commit import GroupCommitRecorder
from service.infra.settings import postgres_env
from tests.support import CODES, Clock, ctx, handed_to_guardian, make_handoff


@pytest.fixture
def other_process(fresh_postgres_url: str, clock: Clock) -> Iterator[Handoff]:
    """A second application on the same database, as another API process would be."""
    other = make_handoff(postgres_env(fresh_postgres_url), clock)
    yield other
    other.close()


def test_a_guardian_revoked_in_another_process_is_refused_by_the_next_release(
    postgres_handoff: Handoff, other_process: Handoff
) -> None:
    tablet = postgres_handoff
    handed_to_guardian(tablet)  # the tablet's process has loaded C1's guardian list: G1 confirmed
    stream = guardians.guardians_id("S1", "C1")
    assert tablet.states.holds(stream), "the guardian list is cached in the tablet's process"

    other_process.guardian_list.revoke_guardian(ctx("admin"), "C1", "G1", "court order")
    hits = tablet.states.hits
    answer = tablet.care.release(ctx(), "C1", "G1")

    assert tablet.states.hits > hits, "the release was decided from cached states"
    assert answer["outcome"] == "refused", answer
    assert answer["refusal"]["code"] == "guardian_not_authorised"
    day = tablet.school("S1").service_day(tablet.clock())
    assert not any(isinstance(e, ChildReleased) for e in tablet.events.get(custody.custody_id("S1", "C1", day)))


def test_a_guardian_revoked_in_another_process_is_refused_every_time_though_the_rest_is_served_unread(
    postgres_handoff: Handoff, other_process: Handoff
) -> None:
    """The tablet's process serves what did not change (school, roster entry, staff, enrolment) from its cache
    without reading the log; the guardian list changed in the other process, so it is read, for every guardian."""
    tablet = postgres_handoff
    tablet.care.check_in(ctx(), "C1", "T1", None, None)
    for guardian in ("G1", "G2"):
        tablet.care.register_arrival(ctx("gate"), "C1", guardian, "pickup_code", CODES[guardian])
        tablet.care.confirm(ctx(), "C1", guardian, True, True)  # the guardian list is cached: the guardian confirmed
        other_process.guardian_list.revoke_guardian(ctx("admin"), "C1", guardian, "court order")
        unread = tablet.states.unread

        answer = tablet.care.release(ctx(), "C1", guardian)

        assert tablet.states.unread > unread, "the states that did not change were served without a read"
        assert answer["outcome"] == "refused", (guardian, answer)
        assert answer["refusal"]["code"] == "guardian_not_authorised"
    day = tablet.school("S1").service_day(tablet.clock())
    assert not any(isinstance(e, ChildReleased) for e in tablet.events.get(custody.custody_id("S1", "C1", day)))


def test_a_retry_is_answered_from_the_read_that_brings_the_changes(
    postgres_handoff: Handoff, other_process: Handoff
) -> None:
    """A command's first read brings both what changed since the process last looked and its key's stored answer:
    a retry of a check-in committed by another process is answered from it, with no read of the answer's stream."""
    tablet = postgres_handoff
    tablet.care.check_in(ctx(), "C2", "T1", None, None)  # the tablet's process has read the log once
    first = other_process.care.check_in(ctx(key="retried"), "C1", "T1", None, None)
    read: list[object] = []
    select_events = tablet.recorder.select_events

    def counted(*args: Any, **kwargs: Any) -> Any:
        read.append(kwargs.get("originator_id", args[0] if args else None))
        return select_events(*args, **kwargs)

    tablet.recorder.select_events = counted  # type: ignore[method-assign]
    again = tablet.care.check_in(ctx(key="retried"), "C1", "T1", None, None)

    assert again == {**first, "replayed": True}
    assert answer_id(ctx(key="retried")) not in read, "the stored answer came with the changes"


def test_the_changes_and_a_streams_first_event_are_one_read(postgres_handoff: Handoff) -> None:
    h = postgres_handoff
    assert isinstance(h.recorder, GroupCommitRecorder)
    start = (h.recorder.max_notification_id() or 0) + 1
    h.care.check_in(ctx(key="k1"), "C1", "T1", None, None)
    h.care.check_in(ctx(key="k2"), "C2", "T1", None, None)
    after = h.recorder.select_notifications(start, 100)

    changes, events = h.recorder.changes_and_events(start, 100, answer_id(ctx(key="k2")), 1)

    assert changes == [(n.id, n.originator_id) for n in after] and len(changes) == 4  # two custody days, two answers
    assert [(e.originator_id, e.originator_version) for e in events] == [(answer_id(ctx(key="k2")), 1)]
    assert h.recorder.changes_and_events(start, 1, answer_id(ctx(key="none")), 1) == (changes[:1], [])
