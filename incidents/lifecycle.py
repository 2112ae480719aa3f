"""What incidents announce about their lifecycle, and who listens.

`incidents` is the core and imports no other project app. Its services
announce each step of an incident's life through the one implementation
registered here (escalations registers its own in `AppConfig.ready()`).

Every method is called INSIDE the transaction that makes the change, after the
timeline event is written, so whatever the implementation writes (clocks,
escalations, reviews, outbox rows) commits or rolls back with the change: an
exception raised by the implementation undoes the change. Direct typed calls,
not Django signals, so the order is plain and nothing is swallowed.

With nothing registered, `NoLifecycle` answers: no policy (level 1) and no
follow-up at all; incidents work alone, without clocks or notifications.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from django.db.models import Model

    from incidents.models import Account, Channel, Component, Incident, IncidentEvent


class SeverityMeaning(NamedTuple):
    """What one severity means under a policy, shown where a severity is chosen."""

    severity: str  # P0..P3
    label: str  # "P0 · Critical · Sev 1"
    definition: str
    criteria: tuple[str, ...]
    examples: tuple[str, ...]


class StartingPolicy(NamedTuple):
    """Where a new incident starts: its policy (None for none) and level number."""

    policy: Model | None
    level: int


@runtime_checkable
class IncidentLifecycle(Protocol):
    """The steps incidents announce. Keyword-only; all run in the change's transaction."""

    def policy_for_new_incident(
        self, *, channel: Channel, account: Account | None, component: Component | None
    ) -> StartingPolicy:
        """Before the insert: the policy a new incident follows and its first level."""
        ...

    def created(self, *, incident: Incident, now: datetime) -> None:
        """The incident and its `created` event are saved. `incident.opened_at`
        before `now` means an import."""
        ...

    def changed(
        self, *, incident: Incident, now: datetime, triggers: bool = False, actor: Any = None
    ) -> Any:
        """Any change to an open or closed incident (status, details, updates, replies).

        With `triggers`, also check the triggers a change can fire (creation,
        severity raised, impact details edited). Returns the clock readings at
        `now`, or None when a trigger moved the incident (then `incident` has
        been re-read from the database)."""
        ...

    def resolved(
        self, *, incident: Incident, event: IncidentEvent, actor: Any, now: datetime
    ) -> None:
        """The incident moved to resolved; `event` is its status change.
        Announced before `changed`."""
        ...

    def reopened(
        self, *, incident: Incident, event: IncidentEvent, actor: Any, now: datetime
    ) -> None:
        """A resolved or closed incident is open again. Announced before `changed`."""
        ...

    def public_update_posted(
        self, *, incident: Incident, event: IncidentEvent, now: datetime
    ) -> None:
        """The owning side posted a customer-visible update. Announced after `changed`."""
        ...

    def customer_replied(self, *, incident: Incident, event: IncidentEvent, now: datetime) -> None:
        """The customer wrote back; `event` is their reply (any status change it
        caused is already saved). Announced after `changed`."""
        ...

    def rated(
        self, *, incident: Incident, event: IncidentEvent, rating: int, now: datetime
    ) -> None:
        """The customer rated the resolution 1-5 (`incident.csat_rating` is saved)."""
        ...

    def severity_meanings(self, *, incident: Incident | None = None) -> list[SeverityMeaning]:
        """A read, not a step: what the severities mean under `incident`'s policy (None:
        the default policy, which a new incident takes unless another matches), for the
        forms where a severity is chosen. Empty when the policy defines none."""
        ...


class NoLifecycle:
    """The default with nothing registered: no policy, start at level 1, keep no
    clocks, notify nobody. `changed` has no readings and returns None."""

    def policy_for_new_incident(self, *, channel, account, component) -> StartingPolicy:
        return StartingPolicy(policy=None, level=1)

    def created(self, *, incident, now) -> None:
        return None

    def changed(self, *, incident, now, triggers=False, actor=None) -> Any:
        return None

    def resolved(self, *, incident, event, actor, now) -> None:
        return None

    def reopened(self, *, incident, event, actor, now) -> None:
        return None

    def public_update_posted(self, *, incident, event, now) -> None:
        return None

    def customer_replied(self, *, incident, event, now) -> None:
        return None

    def rated(self, *, incident, event, rating, now) -> None:
        return None

    def severity_meanings(self, *, incident=None) -> list[SeverityMeaning]:
        return []


_registered: IncidentLifecycle = NoLifecycle()


def register(implementation: IncidentLifecycle) -> None:
    """Make `implementation` the one incidents announce to (replacing any before it)."""
    global _registered
    if not isinstance(implementation, IncidentLifecycle):
        raise TypeError(f"{implementation!r} does not implement IncidentLifecycle")
    _registered = implementation


def registered() -> IncidentLifecycle:
    """The implementation incidents announce to now (NoLifecycle if none)."""
    return _registered
