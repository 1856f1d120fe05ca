"""Read models: PostgreSQL tables built from the event log, each written in the same transaction as its position."""
