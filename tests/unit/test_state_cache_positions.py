"""#18: a cached state is served without a read only while the log shows no change to its stream after the position
it was read at; a change, a forgotten change (below the floor) or an unknown position means a read."""

from __future__ import annotations

import uuid

from aggregates import guardians
from service.application.states import Changes
from tests.support import ctx, make_handoff, setup_school

X, Y = uuid.uuid4(), uuid.uuid4()


def test_a_state_read_at_or_after_its_streams_last_change_is_current() -> None:
    changes = Changes()
    changes.add([(5, X), (7, Y), (9, X)], upto=10)

    assert changes.seen == 10
    assert not changes.unchanged_since(X, 8), "X changed at 9, after the state was read at 8"
    assert changes.unchanged_since(X, 9)
    assert changes.unchanged_since(Y, 7)
    assert changes.unchanged_since(uuid.uuid4(), 0), "a stream with no known change"
    assert not changes.unchanged_since(Y, None), "a state read at an unknown position is always read again"


def test_a_forgotten_change_or_a_skipped_gap_distrusts_every_state_read_before_it() -> None:
    changes = Changes(kept=2)
    changes.add([(3, X), (4, Y), (6, uuid.uuid4())], upto=6)

    assert changes.floor == 3, "X's change was forgotten: nothing read before it is trusted"
    assert not changes.unchanged_since(uuid.uuid4(), 2)
    changes.skip_to(50)
    assert changes.seen == 50
    assert not changes.unchanged_since(Y, 49)
    assert changes.unchanged_since(Y, 50)


def test_within_a_command_an_unchanged_state_is_served_unread_and_a_changed_one_is_read() -> None:
    handoff = make_handoff()
    setup_school(handoff)
    stream = guardians.guardians_id("S1", "C1")
    with handoff.states.fresh():
        assert "G1" in handoff.guardians("S1", "C1").authorisations
    with handoff.states.fresh():
        unread = handoff.states.unread
        handoff.guardians("S1", "C1")
        assert handoff.states.unread == unread + 1, "nothing changed: served from the cache"

    handoff.guardian_list.revoke_guardian(ctx("admin"), "C1", "G1", "court order")

    with handoff.states.fresh():
        unread = handoff.states.unread
        assert "G1" not in handoff.guardians("S1", "C1").authorisations
        assert handoff.states.unread == unread, "the guardian list changed after it was cached: read again"
    assert handoff.states.holds(stream)
    assert "G1" not in handoff.guardians("S1", "C1").authorisations, "outside a command every load reads"
