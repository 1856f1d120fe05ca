"""Stored-event contracts. Their module paths and fields are persisted data: never rename or move one
without registering the old topic, and never change fields without a class version and an upcaster."""

MOVED_TOPICS: dict[str, str] = {
    "events.incidents:DutyRoundRecorded": "events.duty_rounds:DutyRoundRecorded",
}
"""Old topic → current topic of every event class that was moved or renamed. Stored rows keep the topic they were
written with; the application registers each old topic (eventsourcing's `register_topic`) before reading any."""
