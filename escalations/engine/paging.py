"""Pages of a handoff to a level that names an on-call schedule (issue 18).

When an incident moves up into such a level, the level's notices go to the person on call
at that instant (and the team channel) instead of the whole team: that is step 0, written
with the move (`moves.first_page`). While nobody acknowledges the handoff, every
`page_after` (the level's, else its acknowledgement target for the incident's severity)
the page sweep pages the next person in the schedule's paging order who has not been paged
yet, and when there is nobody left, the level's escalation contact; then the ladder ends.
Every page, and who received it, is a timeline entry.

A step due at D is paged when, at D, the handoff was still unacknowledged and the incident
had not left the level before D: a move at exactly D (the acknowledgement clock's 100 %
escalation under the presets) still pages, so which job runs first never changes who hears.
Pages go by wall-clock time, not the SLA calendar: a 3 a.m. page waits for no office hours.

Exactly once: a sweep locks the due page rows (skipping rows another sweep holds), and the
next step's row is unique per (escalation, step).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import prefetch_related_objects

from escalations.engine.audience import Audience
from escalations.models import Escalation, Page
from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.policies.services import policy_spec
from escalations.rules.durations import humanize
from escalations.rules.spec import LevelSpec, WorkflowSpec
from incidents.models import EventKind, Visibility
from incidents.services import incident_events_append_many
from notifications.services import notifications_enqueue_many
from portal.clock import resolve_now

# How many due pages one sweep transaction takes.
BATCH = 200


def page_after(spec: WorkflowSpec, severity: str, level: LevelSpec) -> timedelta | None:
    """How long a paged person has to acknowledge before the next step is paged."""
    return level.page_after or spec.targets(severity, level.number).first_response


def escalation_contact(level: LevelSpec) -> str:
    return dict(level.contacts).get("escalation", "")


def unacknowledged_contact(incident, spec: WorkflowSpec, reading, now) -> tuple[list, list]:
    """Seed 002's level "Escalation" contacts (manager@, director@, ceo@) for a level
    WITHOUT an on-call schedule: when its handoff's acknowledgement clock reaches the
    threshold that escalates, the level's escalation contact is emailed, with a
    timeline entry, as (events, outbox rows). Once: the threshold fires once per
    incident and level, and the dedup key holds if it were decided again. (A scheduled
    level's ladder ends with that contact already: `page_sweep`.)"""
    try:
        level = spec.level(incident.current_level)
    except KeyError:
        return [], []
    address = escalation_contact(level)
    if level.schedule or "@" not in address:
        return [], []
    body = (
        f"Told the {level.title} escalation contact, {address}: nobody acknowledged the "
        f"handoff within {humanize(reading.target)}."
    )
    event = {
        "incident_id": incident.pk,
        "kind": EventKind.PAGED.value,
        "at": now,
        "visibility": Visibility.INTERNAL.value,
        "body": body,
        "data": {"level": level.number, "address": address, "clock": reading.clock},
    }
    rows = notices.build(
        kind="policy_notice",
        incident=incident,
        recipients=[reach.Recipient("email", address, name=f"{level.name} escalation")],
        context={"notice": {"reason": body, "within": ""}},
        dedup_base=f"handoff_contact:{incident.pk}:{level.number}",
        urgent=True,
        now=now,
    )
    return [event], rows


def page_event(incident, page: Page, escalation: Escalation, level_label: str) -> dict:
    """The timeline entry of one page."""
    if page.person is not None:
        who = str(page.person)
        role = "on call" if page.step == 0 else "next on call"
        body = f"Paged {who} ({role} for {page.schedule}) for the {level_label} handoff."
    elif page.address:
        body = (
            f"Paged the {level_label} escalation contact, {page.address}: nobody on call for "
            f"{page.schedule} acknowledged the handoff."
        )
    else:
        body = f"Nobody is on call for {page.schedule}: the whole {level_label} team was told."
    return {
        "incident_id": incident.pk,
        "kind": EventKind.PAGED.value,
        "at": page.paged_at,
        "visibility": Visibility.INTERNAL.value,
        "body": body,
        "data": {
            "escalation": escalation.pk,
            "schedule": page.schedule,
            "step": page.step,
            "person": page.person.get_username() if page.person is not None else None,
            "address": page.address,
            "due_at": page.due_at.isoformat(),
        },
    }


def first_page(escalation: Escalation, level: LevelSpec, person, after, now) -> Page:
    """Step 0 of a move into a scheduled level: `person` on call now, or None."""
    return Page(
        escalation=escalation,
        step=0,
        schedule=level.schedule,
        person=person,
        address="",
        due_at=now,
        paged_at=now,
        next_due_at=now + after if after else None,
    )


def page_notices(
    incident, escalation: Escalation, level: LevelSpec, page: Page, audience: Audience
):
    """The outbox rows of a later step: the person (or the escalation contact's email)
    and the team channel; a limited-distribution (security) escalation's emails only to
    the people cleared to read it."""
    channels = notices.channels_for(incident.severity)
    if page.person is not None:
        recipients = audience.on_call(level, page.person, channels)
    else:
        recipients = []
        if "@" in page.address:
            recipients.append(reach.Recipient("email", page.address, name=level.name))
        recipients += reach.team_channels(level, channels)
    if escalation.limited_distribution:
        recipients = reach.limited_to_readers(recipients, audience.security_readers(incident))
    return notices.build(
        kind="page",
        incident=incident,
        recipients=recipients,
        context={
            "page": {
                "schedule": page.schedule,
                "step": page.step,
                "who": str(page.person) if page.person is not None else page.address,
                "level": level.title,
                "waiting_since": page.escalation.at,
            }
        },
        dedup_base=f"page:{page.escalation_id}:{page.step}",
        urgent=incident.severity in ("P0", "P1"),
        now=page.paged_at,
    )


# --- the page sweep ---------------------------------------------------------------------------


def seconds_to_next_page(*, now: datetime | None = None) -> float | None:
    """Seconds until the next page is due (0 if one is due), None if none is: one read of
    the partial index on next_due_at."""
    first = (
        Page.objects.filter(next_due_at__isnull=False)
        .order_by("next_due_at")
        .values_list("next_due_at", flat=True)
        .first()
    )
    if first is None:
        return None
    return max((first - resolve_now(now)).total_seconds(), 0.0)


def page_sweep(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Page every step that is due; returns how many pages were made. Safe to run twice
    and side by side."""
    now = resolve_now(now)
    made = 0
    while True:
        count, more = _sweep_batch(now, batch)
        made += count
        if not more:
            return made


@transaction.atomic
def _sweep_batch(now: datetime, batch: int) -> tuple[int, bool]:
    due = list(
        Page.objects.filter(next_due_at__lte=now)
        .order_by("next_due_at", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("escalation__incident__policy", "person")[:batch]
    )
    if not due:
        return 0, False
    escalations = [page.escalation for page in due]
    incident_ids = {e.incident_id for e in escalations}
    prefetch_related_objects([e.incident for e in escalations], "account", "channel")
    # The moves of these incidents (to see whether one left the level) and each ladder's
    # pages so far (nobody is paged twice in one ladder).
    moves_by_incident = defaultdict(list)
    for incident_id, at, pk in Escalation.objects.filter(incident_id__in=incident_ids).values_list(
        "incident_id", "at", "id"
    ):
        moves_by_incident[incident_id].append((at, pk))
    ladders = defaultdict(list)
    for escalation_id, username, address in Page.objects.filter(
        escalation_id__in=[e.pk for e in escalations]
    ).values_list("escalation_id", "person__username", "address"):
        ladders[escalation_id].append(username or address)

    audience = Audience()
    new_pages, events, rows = [], [], []
    for page in due:
        escalation = page.escalation
        incident = escalation.incident
        step_due, page.next_due_at = page.next_due_at, None
        if not _still_waiting(escalation, incident, moves_by_incident[incident.pk], step_due):
            continue
        spec = policy_spec(incident.policy)
        try:
            level = spec.level(escalation.to_level)
        except KeyError:  # its policy changed since, to one without that level
            continue
        label = level.title
        paged = ladders[escalation.pk]
        person, address = None, ""
        last = page.person.get_username() if page.person is not None else None
        for username in audience.rota.paging_order_after(page.schedule, step_due, last):
            if username not in paged and audience.rota.person(username) is not None:
                person = audience.rota.person(username)
                break
        if person is None:
            address = escalation_contact(level)
            if not address or address in paged:
                events.append(_ladder_end_event(incident, escalation, page, label, now))
                continue
        after = page_after(spec, incident.severity, level)
        step = Page(
            escalation=escalation,
            step=page.step + 1,
            schedule=page.schedule,
            person=person,
            address=address,
            due_at=step_due,
            paged_at=now,
            # After the escalation contact nobody is left; else the next step may come.
            next_due_at=step_due + after if person is not None and after else None,
        )
        paged.append(person.get_username() if person is not None else address)
        new_pages.append(step)
        events.append(page_event(incident, step, escalation, label))
        rows += page_notices(incident, escalation, level, step, audience)
    Page.objects.bulk_update(due, ["next_due_at"])
    Page.objects.bulk_create(new_pages)
    incident_events_append_many(rows=events)
    notifications_enqueue_many(rows)
    return len(new_pages), len(due) == batch


def ladders_end(*, before: datetime) -> int:
    """End the ladder of every handoff made before `before`: imported history (the demo's
    past), which nobody will acknowledge and nobody should be paged for now."""
    return Page.objects.filter(next_due_at__isnull=False, escalation__at__lt=before).update(
        next_due_at=None
    )


def _still_waiting(escalation: Escalation, incident, moves: list, step_due: datetime) -> bool:
    """Whether the step due at `step_due` is paged: the handoff unacknowledged, the
    incident open and not moved off the level before the step was due."""
    if escalation.acknowledged_at is not None or not incident.is_open:
        return False
    later = [at for at, pk in moves if (at, pk) > (escalation.at, escalation.pk)]
    return not later or min(later) >= step_due


def _ladder_end_event(incident, escalation, page, label, now) -> dict:
    return {
        "incident_id": incident.pk,
        "kind": EventKind.PAGED.value,
        "at": now,
        "visibility": Visibility.INTERNAL.value,
        "body": (
            f"Nobody else to page for the {label} handoff: everyone on call for "
            f"{page.schedule} has been paged and the level has no escalation contact."
        ),
        "data": {"escalation": escalation.pk, "schedule": page.schedule, "step": None},
    }
