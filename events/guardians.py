"""Who may collect a child: authorised guardians and self-release. Ids and hashes only for now."""

from __future__ import annotations

from events.envelope import HandoffEvent


class GuardiansEvent(HandoffEvent):
    """An event in a child's guardian-authorisation stream."""

    child_id: str


class GuardianAuthorised(GuardiansEvent):
    """A person was authorised to collect the child, possibly for a bounded period."""

    guardian_id: str
    relation: str
    pickup_code_hash: str
    """Keyed hash of the guardian's pickup code; the code itself is never stored."""
    valid_from: str | None
    """First local date (ISO) the authorisation holds, inclusive; None for no bound."""
    valid_until: str | None
    """Last local date (ISO) the authorisation holds, inclusive; None for no bound."""
    photo_ref: str | None
    """Reference to the guardian's photo in the school's photo store; the photo itself is not stored here."""
    sealed: str
    """Sealed with the child's key: the guardian's name and phone."""


class GuardianAuthorisationRevoked(GuardiansEvent):
    """A guardian may no longer collect the child."""

    guardian_id: str
    reason: str


class SelfReleaseAllowed(GuardiansEvent):
    """The safety agreement lets the child leave alone at or after a local time."""

    not_before: str
    """Local time of day (HH:MM or HH:MM:SS) from which the child may leave alone."""


class SelfReleaseWithdrawn(GuardiansEvent):
    """The child may no longer leave alone."""


class PersonFlagged(GuardiansEvent):
    """A person must never collect the child (e.g. a court order): their arrival is refused and reported."""

    person_id: str
    reason: str
    sealed: str
    """Sealed with the child's key: who the person is, as the school knows them."""


class PersonFlagLifted(GuardiansEvent):
    """A flag was lifted (e.g. the court order ended)."""

    person_id: str
    reason: str


class PickupCodeChanged(GuardiansEvent):
    """A guardian was given a new pickup code (e.g. after a roster import, which brings none)."""

    guardian_id: str
    pickup_code_hash: str
