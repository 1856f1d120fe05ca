"""State, decisions and evolution: pure functions over the events in `events/`."""
