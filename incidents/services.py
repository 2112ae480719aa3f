"""Every change to an incident goes through one of these functions.

Each one validates, locks the incident row, changes it and appends exactly one
timeline event, all in one transaction. Views, forms, admin actions, the API
and tasks call these. `now` is injectable so imports, demo data and tests can
place changes in time.

The writers below (`incident_lock`, `incident_save`, `incident_store_clocks`,
`incidents_store_next_checks`, `incident_event_append`, `incident_events_append_many`)
are the only code that writes incident rows and timeline events: the escalation
services lock, change and log through them too (tests/incidents/test_single_writers.py).

What follows a change (clocks, escalations, reviews, who is told) is not
decided here: each step is announced, in the same transaction, to the
implementation registered in `incidents.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from incidents.lifecycle import registered as lifecycle
from incidents.models import (
    Account,
    Category,
    Channel,
    Component,
    EventKind,
    Incident,
    IncidentEvent,
    Visibility,
)
from incidents.permissions import require
from incidents.rules import (
    REOPEN_TO,
    PublicState,
    Severity,
    Status,
    TransitionError,
    check_publishable,
    check_reopen,
    check_transition,
    make_reference,
    random_suffix,
)
from portal.bulk import append_dicts
from portal.clock import resolve_now

EDITABLE_FIELDS = (
    "title",
    "description",
    "category",
    "component",
    "account",
    "is_production_outage",
    "is_security",
    "is_compliance",
    "is_data_loss",
    "is_legal_exposure",
    "is_pr_crisis",
    "is_customer_facing",
    "users_affected",
    "revenue_impact",
    "root_cause",
    "root_cause_key",
)


# --- the writers: nothing else creates timeline events or writes incident rows ----------------
# (tests/incidents/test_single_writers.py holds every other module to that)

# Derived from the row and its timeline (escalations.sla.services keeps them): storing them is
# bookkeeping, not a change, so updated_at stays as it was.
CLOCK_COLUMNS = frozenset(
    {
        "next_check_at",
        "sla_warning_at",
        "sla_due_at",
        "first_response_due_at",
        "resolution_due_at",
        "first_response_breached",
        "resolution_breached",
    }
)


def incident_lock(*, incident: Incident) -> Incident:
    """The incident re-read under a row lock: concurrent changes queue up.

    Its policy, account and assignee come in the same query; only the incident's
    row is locked.
    """
    return (
        Incident.objects.select_related("policy", "account", "assignee")
        .select_for_update(of=("self",))
        .get(pk=incident.pk)
    )


def incident_save(*, incident: Incident, fields: Iterable[str]) -> Incident:
    """Store `fields` of an incident changed under `incident_lock`, in the changing
    transaction; updated_at moves with them."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Save incident changes inside the transaction that locked the row.")
    incident.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    return incident


def incident_store_clocks(*, incident: Incident, values: dict[str, Any]) -> None:
    """Store the derived clock columns (CLOCK_COLUMNS) that differ from `incident`'s."""
    unknown = set(values) - CLOCK_COLUMNS
    if unknown:
        raise ValueError(f"Not clock columns: {', '.join(sorted(unknown))}.")
    changed = {name: value for name, value in values.items() if getattr(incident, name) != value}
    if changed:
        Incident.objects.filter(pk=incident.pk).update(**changed)
        for name, value in changed.items():
            setattr(incident, name, value)


def incidents_store_next_checks(*, incidents: list[Incident]) -> None:
    """Store next_check_at of a claimed batch (the SLA sweep): one statement for all
    of them (bulk_update's CASE is slow to build)."""
    _update_rows(incidents, ["next_check_at"])


def incidents_save_many(*, incidents: list[Incident], fields: Iterable[str]) -> None:
    """incident_save for a claimed batch (the sweep's escalations): `fields` of every
    incident, changed under the batch's row locks, in one statement; updated_at moves
    with them."""
    if not incidents:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Save incident changes inside the transaction that locked the rows.")
    stamp = timezone.now()
    for incident in incidents:
        incident.updated_at = stamp
    _update_rows(incidents, [*dict.fromkeys(fields), "updated_at"])


def incidents_store_clocks_many(*, incidents: list[Incident]) -> None:
    """incident_store_clocks for a claimed batch: every clock column (CLOCK_COLUMNS) as
    the instances hold it, in one statement."""
    _update_rows(incidents, sorted(CLOCK_COLUMNS))


def _update_rows(incidents: list[Incident], names: list[str]) -> None:
    """Store `names` of many incidents as the instances hold them: one
    UPDATE ... FROM unnest(...) on PostgreSQL."""
    if not incidents:
        return
    if connection.vendor != "postgresql":
        Incident.objects.bulk_update(incidents, names, batch_size=500)
        return
    columns = [Incident._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    arrays = ", ".join(
        f"%b::{field.rel_db_type(connection) if field.is_relation else field.db_type(connection)}[]"
        for field in columns
    )
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    names_sql = ", ".join(quote(f.column) for f in columns)
    # Plain values: psycopg adapts these columns' types (ints, booleans, text, aware
    # datetimes) itself, much faster than get_db_prep_save.
    params = [[i.pk for i in incidents]] + [
        [getattr(i, field.attname) for i in incidents] for field in columns
    ]
    # Bound in binary (%b) on a cursor that sends parameters apart from the statement:
    # Django's cursor binds client-side, quoting every element of every array into the
    # SQL text, five times the work for a storm's batch. Same connection, same
    # transaction; only Django's execute wrappers do not see this statement (as COPY).
    connection.ensure_connection()
    # As Django's cursor would: no statement in a transaction already marked for rollback.
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"UPDATE {quote(Incident._meta.db_table)} AS i SET {sets} "
            f"FROM unnest(%b::bigint[], {arrays}) AS v(id, {names_sql}) WHERE i.id = v.id",
            params,
        )


def incident_event_append(
    *,
    incident: Incident,
    kind: str,
    at: datetime,
    actor=None,
    body: str = "",
    data: dict[str, Any] | None = None,
    visibility: str = Visibility.INTERNAL,
) -> IncidentEvent:
    """Append one entry to the incident's timeline (the system's when `actor` is None
    or anonymous)."""
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        at=at,
        body=body,
        data=data or {},
        visibility=visibility,
    )


def incident_events_append_many(*, rows: list[dict[str, Any]]) -> int:
    """Append many timeline entries given as {attname: value} dicts (incident_id,
    kind, at, body, data, visibility), with COPY on PostgreSQL: for sweeps."""
    return append_dicts(IncidentEvent, rows)


def _parse_severity(value: str) -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as error:
        raise ValidationError({"severity": str(error)}) from None


def _check_impact(users_affected, revenue_impact) -> None:
    errors = {}
    if users_affected is not None and int(users_affected) < 0:
        errors["users_affected"] = "Users affected cannot be negative."
    if revenue_impact is not None and Decimal(revenue_impact) < 0:
        errors["revenue_impact"] = "Revenue impact cannot be negative."
    if errors:
        raise ValidationError(errors)


def _insert_with_unique_reference(incident: Incident) -> None:
    """Save a new incident under a fresh reference, retrying on a collision.

    The unique constraint decides; a savepoint keeps the outer transaction
    usable after a collision. Suffixes grow longer if a day gets crowded.
    """
    day = timezone.localtime(incident.opened_at, timezone.get_default_timezone()).date()
    prefix = settings.INCIDENT_REFERENCE_PREFIX
    code = incident.channel.code.upper()
    for attempt in range(16):
        incident.reference = make_reference(prefix, code, day, random_suffix(3 + attempt // 4))
        try:
            with transaction.atomic():
                incident.save(force_insert=True)
            return
        except IntegrityError:
            if not Incident.objects.filter(reference=incident.reference).exists():
                raise  # some other constraint failed
            incident.pk = None
            incident._state.adding = True
    raise RuntimeError("could not find a free incident reference after 16 attempts")


def check_new_incident(
    *,
    title: str,
    channel: Channel,
    opened_at: datetime,
    users_affected=None,
    revenue_impact=None,
    now: datetime | None = None,
) -> None:
    """What incident_create refuses, for forms to show beside their fields first."""
    now = resolve_now(now)
    errors = {}
    if timezone.is_naive(opened_at):
        errors["opened_at"] = "Give a time zone with the opening time."
    elif opened_at > now:
        errors["opened_at"] = "The opening time cannot be in the future."
    if not (title or "").strip():
        errors["title"] = "Give the incident a title."
    if not channel.is_active:
        errors["channel"] = f"The {channel.name} channel is no longer in use."
    if errors:
        raise ValidationError(errors)
    _check_impact(users_affected, revenue_impact)


@transaction.atomic
def incident_create(
    *,
    actor,
    title: str,
    severity: str,
    channel: Channel,
    description: str = "",
    category: Category | None = None,
    component: Component | None = None,
    account: Account | None = None,
    is_production_outage: bool = False,
    is_security: bool = False,
    is_compliance: bool = False,
    is_data_loss: bool = False,
    is_legal_exposure: bool = False,
    is_pr_crisis: bool = False,
    is_customer_facing: bool = False,
    users_affected: int | None = None,
    revenue_impact: Decimal | None = None,
    root_cause: str = "",
    root_cause_key: str = "",
    assignee=None,
    opened_at: datetime | None = None,
    now: datetime | None = None,
) -> Incident:
    """Open an incident. `opened_at` (imports) may be in the past, never the future."""
    require(actor, "incident.create")
    now = resolve_now(now)
    opened_at = opened_at or now
    check_new_incident(
        title=title,
        channel=channel,
        opened_at=opened_at,
        users_affected=users_affected,
        revenue_impact=revenue_impact,
        now=now,
    )
    severity = _parse_severity(severity)

    policy, level = lifecycle().policy_for_new_incident(
        channel=channel, account=account, component=component
    )
    incident = Incident(
        policy=policy,
        current_level=level,
        peak_level=level,
        level_entered_at=opened_at,
        level_clock_started_at=opened_at,
        title=title.strip(),
        description=description,
        severity=severity.value,
        channel=channel,
        category=category,
        component=component,
        account=account,
        is_production_outage=is_production_outage,
        is_security=is_security,
        is_compliance=is_compliance,
        is_data_loss=is_data_loss,
        is_legal_exposure=is_legal_exposure,
        is_pr_crisis=is_pr_crisis,
        is_customer_facing=is_customer_facing,
        users_affected=users_affected,
        revenue_impact=revenue_impact,
        root_cause=root_cause,
        root_cause_key=root_cause_key,
        assignee=assignee,
        created_by=actor if getattr(actor, "pk", None) else None,
        opened_at=opened_at,
        status=Status.NEW.value,
    )
    _insert_with_unique_reference(incident)
    incident_event_append(
        incident=incident,
        kind=EventKind.CREATED,
        actor=actor,
        at=opened_at,
        body=description,
        data={
            "severity": severity.value,
            "channel": channel.name,
            "assignee": str(assignee) if assignee else None,
            "imported": opened_at < now,
            "policy": str(policy) if policy else None,
            "level": level,
        },
    )
    # Clocks, triggers and the customer's acknowledgement follow, in this transaction.
    lifecycle().created(incident=incident, now=now)
    return incident


# What _set_status may change.
STATUS_FIELDS = ("status", "acknowledged_at", "first_response_at", "resolved_at", "closed_at")


def _set_status(incident: Incident, target: Status, now: datetime) -> None:
    """Status field and the timestamps that go with it (STATUS_FIELDS)."""
    incident.status = target.value
    if target != Status.NEW and incident.acknowledged_at is None:
        # Any move out of "new" by a person is the owning side responding.
        incident.acknowledged_at = now
    if target != Status.NEW and incident.first_response_at is None:
        incident.first_response_at = now
    if target == Status.RESOLVED:
        incident.resolved_at = now
    if target == Status.CLOSED:
        incident.closed_at = now


@transaction.atomic
def incident_acknowledge(*, incident: Incident, actor, now: datetime | None = None) -> Incident:
    """Take a new incident: first response, and the acknowledger owns it if nobody does."""
    require(actor, "incident.acknowledge", incident=incident)
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    try:
        check_transition(incident.status, Status.ACKNOWLEDGED)
    except TransitionError as error:
        raise ValidationError(str(error)) from None
    _set_status(incident, Status.ACKNOWLEDGED, now)
    data = {"from": Status.NEW.value, "to": Status.ACKNOWLEDGED.value}
    if incident.assignee_id is None and getattr(actor, "pk", None):
        incident.assignee = actor
        data["assignee"] = str(actor)
    incident_save(incident=incident, fields=[*STATUS_FIELDS, "assignee"])
    incident_event_append(
        incident=incident, kind=EventKind.ACKNOWLEDGED, actor=actor, at=now, data=data
    )
    lifecycle().changed(incident=incident, now=now)
    return incident


@transaction.atomic
def incident_change_status(
    *, incident: Incident, status: str, actor, note: str = "", now: datetime | None = None
) -> Incident:
    """Move along the status table. Resolving needs a note saying how."""
    require(actor, "incident.change_status", incident=incident)
    now = resolve_now(now)
    try:
        target = Status(status)
    except ValueError:
        raise ValidationError({"status": f"Unknown status {status!r}."}) from None
    if target == Status.ACKNOWLEDGED:
        return incident_acknowledge(incident=incident, actor=actor, now=now)
    incident = incident_lock(incident=incident)
    try:
        check_transition(incident.status, target)
    except TransitionError as error:
        raise ValidationError({"status": str(error)}) from None
    if target == Status.RESOLVED and not note.strip():
        raise ValidationError({"note": "Say how it was resolved."})
    previous = incident.status
    _set_status(incident, target, now)
    incident_save(incident=incident, fields=STATUS_FIELDS)
    event = incident_event_append(
        incident=incident,
        kind=EventKind.STATUS_CHANGED,
        actor=actor,
        at=now,
        body=note.strip(),
        data={"from": previous, "to": target.value},
    )
    if target == Status.RESOLVED:
        lifecycle().resolved(incident=incident, event=event, actor=actor, now=now)
    lifecycle().changed(incident=incident, now=now)
    return incident


@transaction.atomic
def incident_reopen(
    *, incident: Incident, actor, reason: str, now: datetime | None = None
) -> Incident:
    """Bring back a resolved or closed incident. Clocks keep their original start."""
    require(actor, "incident.reopen", incident=incident)
    now = resolve_now(now)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the incident is reopened."})
    incident = incident_lock(incident=incident)
    try:
        check_reopen(incident.status)
    except TransitionError as error:
        raise ValidationError(str(error)) from None
    previous = incident.status
    incident.status = REOPEN_TO.value
    incident.resolved_at = None
    incident.closed_at = None
    incident.reopened_count += 1
    incident_save(
        incident=incident, fields=["status", "resolved_at", "closed_at", "reopened_count"]
    )
    event = incident_event_append(
        incident=incident,
        kind=EventKind.REOPENED,
        actor=actor,
        at=now,
        body=reason.strip(),
        data={"from": previous, "to": REOPEN_TO.value, "times": incident.reopened_count},
    )
    lifecycle().reopened(incident=incident, event=event, actor=actor, now=now)
    lifecycle().changed(incident=incident, now=now)
    return incident


@transaction.atomic
def incident_assign(
    *, incident: Incident, assignee, actor, now: datetime | None = None
) -> Incident:
    """Give the incident to someone (or nobody, with assignee=None)."""
    require(actor, "incident.assign", incident=incident)
    now = resolve_now(now)
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assignee": f"{assignee} is not an active user."})
    incident = incident_lock(incident=incident)
    if incident.assignee_id == (assignee.pk if assignee else None):
        raise ValidationError({"assignee": "The incident is already assigned to them."})
    previous = incident.assignee
    incident.assignee = assignee
    incident_save(incident=incident, fields=["assignee"])
    incident_event_append(
        incident=incident,
        kind=EventKind.ASSIGNED,
        actor=actor,
        at=now,
        data={
            "from": str(previous) if previous else None,
            "to": str(assignee) if assignee else None,
            "to_id": assignee.pk if assignee else None,
        },
    )
    return incident


@transaction.atomic
def incident_change_severity(
    *, incident: Incident, severity: str, actor, reason: str, now: datetime | None = None
) -> Incident:
    require(actor, "incident.change_severity", incident=incident)
    now = resolve_now(now)
    target = _parse_severity(severity)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the severity changes."})
    incident = incident_lock(incident=incident)
    if not incident.is_open:
        raise ValidationError("The severity of a resolved or closed incident cannot change.")
    if incident.severity == target.value:
        raise ValidationError({"severity": f"The incident is already {target.label}."})
    previous = incident.severity
    incident.severity = target.value
    incident_save(incident=incident, fields=["severity"])
    incident_event_append(
        incident=incident,
        kind=EventKind.SEVERITY_CHANGED,
        actor=actor,
        at=now,
        body=reason.strip(),
        data={
            "from": previous,
            "to": target.value,
            "raised": target.rank < Severity(previous).rank,
        },
    )
    lifecycle().changed(
        incident=incident, now=now, triggers=target.rank < Severity(previous).rank, actor=actor
    )
    return incident


@transaction.atomic
def incident_comment(
    *, incident: Incident, actor, body: str, now: datetime | None = None
) -> IncidentEvent:
    """An internal note on the timeline: never shown to the customer."""
    require(actor, "incident.comment", incident=incident)
    now = resolve_now(now)
    if not body.strip():
        raise ValidationError({"body": "Write something first."})
    incident = incident_lock(incident=incident)
    return incident_event_append(
        incident=incident, kind=EventKind.COMMENT, actor=actor, at=now, body=body.strip()
    )


@transaction.atomic
def incident_post_public_update(
    *, incident: Incident, actor, body: str, now: datetime | None = None
) -> IncidentEvent:
    """A customer-visible update. The first one is also the first response."""
    require(actor, "incident.post_public_update", incident=incident)
    now = resolve_now(now)
    if not body.strip():
        raise ValidationError({"body": "Write the update first."})
    incident = incident_lock(incident=incident)
    if incident.status == Status.CLOSED:
        raise ValidationError("The incident is closed; reopen it to post an update.")
    incident.last_public_update_at = now
    first = incident.first_response_at is None
    if first:
        incident.first_response_at = now
    incident_save(incident=incident, fields=["last_public_update_at", "first_response_at"])
    event = incident_event_append(
        incident=incident,
        kind=EventKind.PUBLIC_UPDATE,
        actor=actor,
        at=now,
        body=body.strip(),
        visibility=Visibility.PUBLIC,
        data={"first_response": first},
    )
    lifecycle().changed(incident=incident, now=now)
    lifecycle().public_update_posted(incident=incident, event=event, now=now)
    return event


# --- the public status page (seed 002, "Public Communication: Update public status page") ------
# What anyone may read at /status/: a public title (never the internal one), a public state and
# the public updates, for incidents a manager or commander chose to publish. Security incidents
# are refused (incidents.rules.check_publishable) and the page's selector leaves them out too.

# Limits the forms and API serializers use too (the model's status_page_title max_length).
STATUS_PAGE_TITLE_LIMIT = 200  # characters of a public title
STATUS_PAGE_UPDATE_LIMIT = 5_000  # characters of one public update


def _public_title(value: str) -> str:
    title = " ".join((value or "").split())
    if not title:
        raise ValidationError({"public_title": "Give the incident a public title."})
    if len(title) > STATUS_PAGE_TITLE_LIMIT:
        raise ValidationError(
            {"public_title": f"Keep the public title to {STATUS_PAGE_TITLE_LIMIT} characters."}
        )
    return title


def _public_body(value: str) -> str:
    body = (value or "").strip()
    if not body:
        raise ValidationError({"body": "Write what the public should know."})
    if len(body) > STATUS_PAGE_UPDATE_LIMIT:
        raise ValidationError(
            {"body": f"Keep a public update to {STATUS_PAGE_UPDATE_LIMIT:,} characters."}
        )
    return body


def _parse_public_state(value: str) -> PublicState:
    try:
        return PublicState(value)
    except ValueError:
        choices = ", ".join(s.value for s in PublicState)
        raise ValidationError({"state": f"Pick a public state: {choices}."}) from None


def _checked(**checks) -> dict[str, Any]:
    """Run each check on its value (name=(check, value)) and return the cleaned values, or
    raise one ValidationError with every field's problem at once."""
    cleaned, errors = {}, {}
    for name, (check, value) in checks.items():
        try:
            cleaned[name] = check(value)
        except ValidationError as error:
            errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_publishable(incident: Incident) -> None:
    try:
        check_publishable(incident)
    except TransitionError as error:
        raise ValidationError(str(error)) from None


def _set_public_state(incident: Incident, state: PublicState, now: datetime) -> None:
    incident.status_page_state = state.value
    if state == PublicState.RESOLVED:
        incident.status_page_resolved_at = incident.status_page_resolved_at or now
    else:
        incident.status_page_resolved_at = None


STATUS_PAGE_FIELDS = (
    "status_page_published_at",
    "status_page_title",
    "status_page_state",
    "status_page_resolved_at",
)


@transaction.atomic
def status_page_publish(
    *,
    incident: Incident,
    actor,
    public_title: str,
    body: str,
    state: str = PublicState.INVESTIGATING.value,
    now: datetime | None = None,
) -> IncidentEvent:
    """Put the incident on the public status page with its public title, state and
    first public update. Security incidents are refused."""
    require(actor, "status_page.publish", incident=incident)
    now = resolve_now(now)
    given = _checked(
        title=(_public_title, public_title),
        body=(_public_body, body),
        state=(_parse_public_state, state),
    )
    incident = incident_lock(incident=incident)
    _check_publishable(incident)
    if not incident.is_open:
        # Its internal resolution would decide what the page says (or keep it off the page
        # once past STATUS_PAGE_RESOLVED_DAYS): publish while it is open, or reopen it first.
        raise ValidationError(
            "The incident is resolved or closed: only open incidents are published on the "
            "status page (reopen it first)."
        )
    if incident.status_page_published_at is not None:
        raise ValidationError(
            "The incident is on the status page already: post an update or change its title."
        )
    incident.status_page_published_at = now
    incident.status_page_title = given["title"]
    incident.status_page_resolved_at = None  # a new publication starts afresh
    _set_public_state(incident, given["state"], now)
    incident_save(incident=incident, fields=STATUS_PAGE_FIELDS)
    return incident_event_append(
        incident=incident,
        kind=EventKind.STATUS_PAGE_PUBLISHED,
        actor=actor,
        at=now,
        body=given["body"],
        visibility=Visibility.PUBLIC,
        data={"public_title": incident.status_page_title, "to": given["state"].value},
    )


def _published(incident: Incident) -> Incident:
    _check_publishable(incident)
    if incident.status_page_published_at is None:
        raise ValidationError("The incident is not on the status page: publish it first.")
    return incident


@transaction.atomic
def status_page_set_title(
    *, incident: Incident, actor, public_title: str, now: datetime | None = None
) -> Incident:
    """Change the title the public status page shows (the internal title stays)."""
    require(actor, "status_page.set_title", incident=incident)
    now = resolve_now(now)
    title = _public_title(public_title)
    incident = _published(incident_lock(incident=incident))
    if incident.status_page_title == title:
        raise ValidationError({"public_title": "That is the public title already."})
    previous = incident.status_page_title
    incident.status_page_title = title
    incident_save(incident=incident, fields=["status_page_title"])
    incident_event_append(
        incident=incident,
        kind=EventKind.STATUS_PAGE_TITLE,
        actor=actor,
        at=now,
        data={"from": previous, "to": title},
    )
    return incident


@transaction.atomic
def status_page_post_update(
    *, incident: Incident, actor, body: str, state: str, now: datetime | None = None
) -> IncidentEvent:
    """A public update on the status page, with the state it leaves the incident in
    ("Resolved" starts the countdown to leaving the page)."""
    require(actor, "status_page.post_update", incident=incident)
    now = resolve_now(now)
    given = _checked(body=(_public_body, body), state=(_parse_public_state, state))
    text, target = given["body"], given["state"]
    incident = _published(incident_lock(incident=incident))
    previous = incident.status_page_state
    _set_public_state(incident, target, now)
    incident_save(incident=incident, fields=["status_page_state", "status_page_resolved_at"])
    return incident_event_append(
        incident=incident,
        kind=EventKind.STATUS_PAGE_UPDATE,
        actor=actor,
        at=now,
        body=text,
        visibility=Visibility.PUBLIC,
        data={"from": previous, "to": target.value},
    )


@transaction.atomic
def status_page_withdraw(
    *, incident: Incident, actor, reason: str, now: datetime | None = None
) -> Incident:
    """Take the incident off the public status page (published by mistake, or a
    security concern came up). Publishing again later shows only what follows."""
    require(actor, "status_page.withdraw", incident=incident)
    now = resolve_now(now)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why it leaves the status page."})
    incident = incident_lock(incident=incident)
    if incident.status_page_published_at is None:
        raise ValidationError("The incident is not on the status page.")
    # Off the page entirely: its public state and resolved time go too, so publishing again
    # starts afresh (a stale resolved time would hide the new publication at once).
    incident.status_page_published_at = None
    incident.status_page_state = ""
    incident.status_page_resolved_at = None
    incident_save(
        incident=incident,
        fields=["status_page_published_at", "status_page_state", "status_page_resolved_at"],
    )
    incident_event_append(
        incident=incident,
        kind=EventKind.STATUS_PAGE_WITHDRAWN,
        actor=actor,
        at=now,
        body=reason.strip(),
    )
    return incident


def _display(value) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


@transaction.atomic
def incident_update_details(
    *, incident: Incident, actor, changes: dict[str, Any], now: datetime | None = None
) -> Incident:
    """Edit descriptive fields; the timeline records old and new values."""
    require(actor, "incident.update_details", incident=incident)
    now = resolve_now(now)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    if "title" in changes and not (changes["title"] or "").strip():
        raise ValidationError({"title": "Give the incident a title."})
    _check_impact(changes.get("users_affected"), changes.get("revenue_impact"))
    incident = incident_lock(incident=incident)
    diff = {}
    for field, value in changes.items():
        old = getattr(incident, field)
        if old != value:
            diff[field] = [_display(old), _display(value)]
            setattr(incident, field, value)
    if not diff:
        return incident
    incident_save(incident=incident, fields=diff)
    incident_event_append(
        incident=incident,
        kind=EventKind.DETAILS_CHANGED,
        actor=actor,
        at=now,
        data={"changes": diff},
    )
    lifecycle().changed(incident=incident, now=now, triggers=True, actor=actor)
    return incident


# --- the customer's side (status page and email replies) ---------------------------------------

CUSTOMER_REPLY_LIMIT = 20_000  # characters; longer mail is cut, not refused


@transaction.atomic
def incident_customer_reply(
    *,
    incident: Incident,
    body: str,
    from_email: str,
    via: str,
    subject: str = "",
    now: datetime | None = None,
) -> IncidentEvent:
    """The customer wrote back (status page or email): a public timeline entry.

    An incident waiting on the customer goes back to investigating, so its
    paused clocks run again. Its owner is told.
    """
    now = resolve_now(now)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write your message first."})
    incident = incident_lock(incident=incident)
    event = incident_event_append(
        incident=incident,
        kind=EventKind.CUSTOMER_REPLY,
        actor=None,
        at=now,
        body=body[:CUSTOMER_REPLY_LIMIT],
        visibility=Visibility.PUBLIC,
        data={"from": from_email, "via": via, "subject": subject[:300]},
    )
    if incident.status == Status.WAITING_ON_CUSTOMER:
        # Not _set_status: a customer's message is not the owning side's response.
        incident.status = Status.INVESTIGATING.value
        incident_save(incident=incident, fields=["status"])
        incident_event_append(
            incident=incident,
            kind=EventKind.STATUS_CHANGED,
            actor=None,
            at=now,
            body="The customer replied.",
            data={
                "from": Status.WAITING_ON_CUSTOMER.value,
                "to": Status.INVESTIGATING.value,
                "by_customer": True,
            },
        )
    lifecycle().changed(incident=incident, now=now)
    lifecycle().customer_replied(incident=incident, event=event, now=now)
    return event


@transaction.atomic
def incident_customer_rate(
    *,
    incident: Incident,
    rating: int | str,
    comment: str = "",
    from_email: str = "",
    now: datetime | None = None,
) -> Incident:
    """The customer rates the resolution 1-5, once. Below the policy's limit
    (seed 003: CSAT under 3) it is an executive escalation."""
    now = resolve_now(now)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": "Pick a rating from 1 (poor) to 5 (excellent)."})
    incident = incident_lock(incident=incident)
    if incident.is_open:
        raise ValidationError("You can rate the resolution once the incident is resolved.")
    if incident.csat_rating is not None:
        raise ValidationError("This resolution has been rated already. Thank you!")
    incident.csat_rating = rating
    incident.csat_at = now
    incident_save(incident=incident, fields=["csat_rating", "csat_at"])
    event = incident_event_append(
        incident=incident,
        kind=EventKind.CUSTOMER_RATING,
        actor=None,
        at=now,
        body=comment.strip()[:CUSTOMER_REPLY_LIMIT],
        visibility=Visibility.PUBLIC,
        data={"rating": rating, "from": from_email},
    )
    lifecycle().rated(incident=incident, event=event, rating=rating, now=now)
    return incident
