"""Stored-event contracts. Their module paths and fields are persisted data: never rename or move one
without registering the old topic, and never change fields without a class version and an upcaster."""
