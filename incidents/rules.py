"""Pure incident rules: severities, statuses and the allowed moves between them.

No Django or ORM import: tested without a database, used by models, services,
forms and (later) the API alike.
"""

from __future__ import annotations

import enum
import re
import secrets
from datetime import date
from typing import Protocol


class Severity(enum.StrEnum):
    """P0..P3 (seed 002), also known as Critical..Low and Sev 1..4 (seed 004)."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def word(self) -> str:
        return {"P0": "Critical", "P1": "High", "P2": "Medium", "P3": "Low"}[self.value]

    @property
    def sev(self) -> str:
        return f"Sev {int(self.value[1]) + 1}"

    @property
    def label(self) -> str:
        return f"{self.value} · {self.word} · {self.sev}"

    @property
    def rank(self) -> int:
        """0 is the most severe."""
        return int(self.value[1])

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Accept P1, 'high', 'Sev 2', 'sev2' alike (imports, alert labels, YAML)."""
        cleaned = re.sub(r"[\s_-]+", "", str(text)).lower()
        for severity in cls:
            names = {
                severity.value.lower(),
                severity.word.lower(),
                severity.sev.replace(" ", "").lower(),
            }
            if cleaned in names:
                return severity
        raise ValueError(
            f"unknown severity {text!r}: use P0-P3, Critical/High/Medium/Low or Sev 1-4"
        )


class Status(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    WAITING_ON_VENDOR = "waiting_on_vendor"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self not in (Status.RESOLVED, Status.CLOSED)

    @property
    def is_waiting(self) -> bool:
        """Statuses that (by policy) pause the SLA clocks."""
        return self in (Status.WAITING_ON_CUSTOMER, Status.WAITING_ON_VENDOR)


OPEN_STATUSES = tuple(s for s in Status if s.is_open)

_WORKING = (
    Status.INVESTIGATING,
    Status.WAITING_ON_CUSTOMER,
    Status.WAITING_ON_VENDOR,
    Status.MITIGATED,
    Status.RESOLVED,
)

# The one table of allowed moves. Reopening (resolved/closed -> investigating)
# is its own service so the timeline says "reopened", and it never resets a
# clock (seed 001, "SLA clock games").
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED, *_WORKING}),
    Status.ACKNOWLEDGED: frozenset(_WORKING),
    Status.INVESTIGATING: frozenset(set(_WORKING) - {Status.INVESTIGATING}),
    Status.WAITING_ON_CUSTOMER: frozenset(set(_WORKING) - {Status.WAITING_ON_CUSTOMER}),
    Status.WAITING_ON_VENDOR: frozenset(set(_WORKING) - {Status.WAITING_ON_VENDOR}),
    Status.MITIGATED: frozenset(set(_WORKING) - {Status.MITIGATED}),
    Status.RESOLVED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}
REOPENABLE = frozenset({Status.RESOLVED, Status.CLOSED})
REOPEN_TO = Status.INVESTIGATING


class TransitionError(ValueError):
    """A move the table does not allow; the message says what is allowed."""


def allowed_moves(current: Status | str) -> list[Status]:
    """Targets reachable from `current`, in the order the statuses are declared."""
    allowed = TRANSITIONS[Status(current)]
    return [s for s in Status if s in allowed]


def check_transition(current: Status | str, target: Status | str) -> None:
    current, target = Status(current), Status(target)
    if current == target:
        raise TransitionError(f"The incident is already {current.label.lower()}.")
    if target not in TRANSITIONS[current]:
        options = ", ".join(s.label.lower() for s in allowed_moves(current))
        hint = (
            f"From {current.label.lower()} it can move to: {options}."
            if options
            else (f"{current.label} is final; reopen the incident instead.")
        )
        if current in REOPENABLE and target == REOPEN_TO:
            hint = "Use reopen to bring it back; the SLA clocks keep counting from the start."
        raise TransitionError(
            f"An incident cannot move from {current.label.lower()} "
            f"to {target.label.lower()}. {hint}"
        )


def check_reopen(current: Status | str) -> None:
    current = Status(current)
    if current not in REOPENABLE:
        raise TransitionError(
            "Only resolved or closed incidents can be reopened; "
            f"this one is {current.label.lower()}."
        )


# --- References ---------------------------------------------------------------------------
# Seed 000's QIW-TEST-20260114-ABC: prefix, channel, date, short unique suffix.
SUFFIX_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read over the phone


def channel_code(name: str) -> str:
    """'Runtime' -> 'RUNTIME', 'Customer portal' -> 'CUSTOMER-PORTAL'."""
    code = re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")
    if not code:
        raise ValueError(f"channel name {name!r} gives an empty reference code")
    return code


def random_suffix(length: int) -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(length))


def make_reference(prefix: str, channel: str, day: date, suffix: str) -> str:
    return f"{prefix}-{channel}-{day:%Y%m%d}-{suffix}"


# --- How an incident is named outside its page ----------------------------------------------


class Titled(Protocol):
    reference: str
    title: str
    is_security: bool


def display_title(incident: Titled) -> str:
    """Security incidents travel without details (seed 000: limited distribution)."""
    if incident.is_security:
        return f"Security incident {incident.reference} (details in the portal)"
    return incident.title


# --- The public status page (seed 002, "Public Communication: Update public status page") -----


class PublicState(enum.StrEnum):
    """What the public status page says of a published incident, as status pages do:
    set by each public update, whatever the incident's internal status."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def meaning(self) -> str:
        return {
            "investigating": "We are looking into it.",
            "identified": "We know the cause and are working on a fix.",
            "monitoring": "A fix is in place and we are watching the results.",
            "resolved": "The problem is fixed.",
        }[self.value]


def check_publishable(incident: Titled) -> None:
    """Security incidents never reach the public status page (seed 000: limited
    distribution): refused whoever asks."""
    if incident.is_security:
        raise TransitionError(
            "Security incidents are never published on the public status page: their "
            "details stay with the Security team and managers."
        )
