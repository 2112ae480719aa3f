"""Post-incident reviews and their action items (seed 004; seed 001 for L3 reviews).

Services: each validates, locks, changes, appends a timeline event where the
change concerns the incident, stores the next reminder instant and queues
notices, in one transaction. Content edits of a draft are not timeline events;
creation, submission, return, publication and action items are.

A review is required for the severities, levels and incident facts the
incident's policy names (`reviews:` block; default P0 and L3 and above). It is
created when the incident resolves, in the resolving transaction
(`incident_resolved_follow_up`, called by incidents.services), and is due
`due_after` (48 h) later.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from escalations.followup import reminders
from escalations.followup.people import check_due_date, check_person
from escalations.followup.review_export import FILE_KINDS, ItemLine, ReviewDoc, download
from escalations.followup.war_room import active_war_room, war_room_close
from escalations.models import (
    ActionItem,
    ActionItemStatus,
    PostIncidentReview,
    PreventionConfidence,
    ReviewStatus,
    SimilarIncident,
)
from escalations.notices import compose as notices
from escalations.rules.followup import (
    TIMELINE_KINDS,
    missing_for_publication,
    outage_duration,
    review_due_at,
    review_required_reasons,
    timeline_text,
)
from escalations.sla.services import incident_facts
from incidents.models import EventKind, Incident
from incidents.permissions import require
from incidents.selectors import incidents_visible_to, visibility_q
from incidents.services import incident_event_append, incident_lock
from notifications.services import notifications_enqueue_many
from portal.clock import resolve_now

EDITABLE_FIELDS = (
    "owner",
    "customers_impacted",
    "business_impact",
    "timeline",
    "root_cause_what",
    "root_cause_why",
    "root_cause_not_caught",
    "root_cause_key",
    "contributing_factors",
    "went_well",
    "went_poorly",
    "prevention_confidence",
)
LIST_FIELDS = ("contributing_factors", "went_well", "went_poorly")


def _locked_review(review: PostIncidentReview) -> PostIncidentReview:
    return (
        PostIncidentReview.objects.select_for_update(of=("self",))
        .select_related("incident", "incident__policy", "owner")
        .get(pk=review.pk)
    )


# --- when a review is required --------------------------------------------------------------


def highest_level(incident: Incident) -> int:
    """The highest level the incident ever reached (the engine keeps `peak_level`);
    a policy move can put it on a higher level without escalating, hence also
    `current_level`."""
    return max(incident.current_level, incident.peak_level)


def incident_flags(incident: Incident, wanted: Collection[str]) -> set[str]:
    """The incident's facts a policy may require a review for; the war room and the
    vendor cases are looked up only when `wanted` names them."""
    flags = {
        name
        for name, on in (
            ("production_outage", incident.is_production_outage),
            ("security", incident.is_security),
            ("compliance", incident.is_compliance),
            ("customer_facing", incident.is_customer_facing),
        )
        if on
    }
    if "war_room" in wanted and incident.war_rooms.exists():
        flags.add("war_room")
    if "vendor" in wanted and incident.vendor_cases.exists():
        flags.add("vendor")
    return flags


def review_requirement(incident: Incident) -> list[str]:
    """Why the incident needs a review by its policy's rules; empty if it does not."""
    settings = reminders.review_settings(incident)
    return review_required_reasons(
        severity=incident.severity,
        highest_level=highest_level(incident),
        flags=incident_flags(incident, settings.required_when),
        settings=settings,
    )


# --- the draft ----------------------------------------------------------------------------


def drafted_timeline(incident: Incident) -> list[dict]:
    """The review's first timeline: the incident's events, in plain words."""
    events = (
        incident.events.filter(kind__in=TIMELINE_KINDS).select_related("actor").order_by("at", "id")
    )
    return [
        {
            "at": event.at.astimezone(timezone.UTC).isoformat(),
            "text": timeline_text(
                event.kind, actor=str(event.actor or ""), body=event.body, data=event.data
            ),
        }
        for event in events
    ]


def _business_impact(incident: Incident) -> str:
    parts = []
    if incident.revenue_impact:
        parts.append(f"Estimated revenue impact ${incident.revenue_impact:,.0f}")
    if incident.users_affected:
        parts.append(f"{incident.users_affected} users affected")
    if incident.is_production_outage:
        parts.append("production outage")
    return "; ".join(parts)


def _new_review(incident: Incident, *, actor, reasons: list[str], now: datetime):
    review = PostIncidentReview(
        incident=incident,
        required=bool(reasons),
        required_reasons=reasons,
        # Whoever owns the incident writes the review; else whoever resolved or started it.
        owner=incident.assignee or (actor if getattr(actor, "pk", None) else None),
        business_impact=_business_impact(incident),
        timeline=drafted_timeline(incident),
        root_cause_what=incident.root_cause,
        root_cause_key=incident.root_cause_key,
        created_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
        updated_at=now,
    )
    if incident.resolved_at is not None and not incident.is_open:
        review.due_at = review_due_at(incident.resolved_at, reminders.review_settings(incident))
    try:
        with transaction.atomic():
            review.save(force_insert=True)
    except IntegrityError:
        raise ValidationError("This incident has a post-incident review already.") from None
    due = f" Due {notices.when(review.due_at)}." if review.due_at else ""
    why = f"Required: {'; '.join(reasons)}." if reasons else "Started by hand."
    incident_event_append(
        incident=incident,
        kind=EventKind.REVIEW,
        actor=actor,
        at=now,
        body=f"Post-incident review opened. {why}{due}",
        data={"review": review.pk, "action": "created", "required": bool(reasons)},
    )
    _requested_notice(review, now)
    reminders.review_schedule(review, now)
    return review


def _requested_notice(review: PostIncidentReview, now: datetime) -> None:
    if review.due_at is None:
        return
    notifications_enqueue_many(
        reminders.review_notices(
            review, reminders.Reminder("requested", now, review.due_at), now=now
        )
    )


@transaction.atomic
def review_create(*, incident: Incident, actor, now: datetime | None = None) -> PostIncidentReview:
    """Start a review by hand (any incident); required ones also start on resolution."""
    require(actor, "review.create", incident=incident)
    now = resolve_now(now)
    incident = incident_lock(incident=incident)
    if PostIncidentReview.objects.filter(incident=incident).exists():
        raise ValidationError("This incident has a post-incident review already.")
    return _new_review(incident, actor=actor, reasons=review_requirement(incident), now=now)


def incident_resolved_follow_up(
    *, incident: Incident, actor, now: datetime
) -> PostIncidentReview | None:
    """Called by incidents.services in the transaction that resolves the incident.

    Stands the war room down, then opens the review the policy requires (due
    `due_after` from now) or moves the due time of an unpublished one.
    """

    active = active_war_room(incident)
    if active is not None:
        war_room_close(war_room=active, actor=actor, note="Incident resolved.", now=now)
    reasons = review_requirement(incident)
    review = PostIncidentReview.objects.select_for_update().filter(incident=incident).first()
    if review is None:
        return _new_review(incident, actor=actor, reasons=reasons, now=now) if reasons else None
    if review.status == ReviewStatus.PUBLISHED:
        return review
    review.incident = incident
    review.due_at = review_due_at(now, reminders.review_settings(incident))
    review.required = review.required or bool(reasons)
    review.required_reasons = list(dict.fromkeys([*review.required_reasons, *reasons]))
    review.updated_at = now
    review.save(update_fields=["due_at", "required", "required_reasons", "updated_at"])
    incident_event_append(
        incident=incident,
        kind=EventKind.REVIEW,
        actor=actor,
        at=now,
        body=f"Post-incident review due {notices.when(review.due_at)}.",
        data={"review": review.pk, "action": "due", "due_at": review.due_at.isoformat()},
    )
    _requested_notice(review, now)
    reminders.review_schedule(review, now)
    return review


def incident_reopened_follow_up(*, incident: Incident, now: datetime) -> None:
    """Called by incidents.services when a resolved incident reopens: an unpublished
    review is no longer due (it is due again 48 h after the next resolution)."""
    review = PostIncidentReview.objects.select_for_update().filter(incident=incident).first()
    if review is None or review.status == ReviewStatus.PUBLISHED or review.due_at is None:
        return
    review.due_at = None
    review.updated_at = now
    review.save(update_fields=["due_at", "updated_at"])
    review.incident = incident
    reminders.review_schedule(review, now)


# --- editing --------------------------------------------------------------------------------


# A timeline entry outside this span is a typo, and would not convert to every zone.
EARLIEST_ENTRY = datetime(1970, 1, 1, tzinfo=UTC)


def _clean_changes(
    review: PostIncidentReview, changes: dict[str, Any], now: datetime
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    cleaned = dict(changes)
    if "owner" in changes:
        check_person(changes["owner"], review.incident, "owner", errors)
    if changes.get("customers_impacted") is not None and int(changes["customers_impacted"]) < 0:
        errors["customers_impacted"] = "Customers impacted cannot be negative."
    confidence = changes.get("prevention_confidence")
    if confidence and confidence not in PreventionConfidence.values:
        errors["prevention_confidence"] = "Pick high, medium or low."
    for name in LIST_FIELDS:
        if name in changes:
            items = [str(item).strip() for item in changes[name] or []]
            cleaned[name] = [item for item in items if item]
    if "timeline" in changes:
        entries = []
        for index, entry in enumerate(changes["timeline"] or [], start=1):
            try:
                at = datetime.fromisoformat(entry["at"])
                text = str(entry["text"]).strip()
            except (KeyError, TypeError, ValueError):
                errors["timeline"] = f"Entry {index} needs a time and a text."
                break
            if timezone.is_naive(at) or not text:
                errors["timeline"] = f"Entry {index} needs a time with a zone and a text."
                break
            if not EARLIEST_ENTRY <= at <= now + timedelta(days=1):
                errors["timeline"] = f"Entry {index}: pick a time from 1970 on, not in the future."
                break
            entries.append({"at": at.astimezone(timezone.UTC).isoformat(), "text": text})
        cleaned["timeline"] = entries
    for name in ("business_impact", "root_cause_what", "root_cause_why", "root_cause_not_caught"):
        if name in changes:
            cleaned[name] = (changes[name] or "").strip()
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def review_update(
    *, review: PostIncidentReview, actor, changes: dict[str, Any], now: datetime | None = None
) -> PostIncidentReview:
    """Edit the review's content while it is a draft or in review."""
    require(actor, "review.update", incident=review.incident)
    now = resolve_now(now)
    review = _locked_review(review)
    if not review.is_editable:
        raise ValidationError("A published review no longer changes.")
    cleaned = _clean_changes(review, changes, now)
    for name, value in cleaned.items():
        setattr(review, name, value)
    review.updated_at = now
    review.save()
    return review


def missing_to_publish(review: PostIncidentReview) -> dict[str, str]:
    """Paragraph -> what publishing still needs; empty when complete. Reads the
    action items through `all()`, so a prefetch (the API's lists) is used."""
    values = {name: getattr(review, name) for name in EDITABLE_FIELDS if name != "owner"}
    values["action_items"] = list(review.action_items.all())
    return missing_for_publication(values)


def _check_complete(review: PostIncidentReview) -> None:
    missing = missing_to_publish(review)
    if missing:
        raise ValidationError(missing)


@transaction.atomic
def review_submit(
    *, review: PostIncidentReview, actor, now: datetime | None = None
) -> PostIncidentReview:
    """Draft -> in review: complete enough for the reviewers to read."""
    require(actor, "review.submit", incident=review.incident)
    now = resolve_now(now)
    review = _locked_review(review)
    if review.status != ReviewStatus.DRAFT:
        raise ValidationError("Only a draft can be submitted for review.")
    _check_complete(review)
    review.status = ReviewStatus.IN_REVIEW
    review.submitted_at = now
    review.updated_at = now
    review.save()
    incident_event_append(
        incident=review.incident,
        kind=EventKind.REVIEW,
        actor=actor,
        at=now,
        body="Post-incident review submitted for review.",
        data={"review": review.pk, "action": "submitted"},
    )
    return review


@transaction.atomic
def review_return_to_draft(
    *, review: PostIncidentReview, actor, reason: str, now: datetime | None = None
) -> PostIncidentReview:
    """A reviewer sends it back with what to change."""
    require(actor, "review.return_to_draft", incident=review.incident)
    now = resolve_now(now)
    if not reason.strip():
        raise ValidationError({"reason": "Say what needs to change."})
    review = _locked_review(review)
    if review.status != ReviewStatus.IN_REVIEW:
        raise ValidationError("Only a review in review can go back to draft.")
    review.status = ReviewStatus.DRAFT
    review.updated_at = now
    review.save()
    incident_event_append(
        incident=review.incident,
        kind=EventKind.REVIEW,
        actor=actor,
        at=now,
        body=f"Post-incident review returned to draft: {reason.strip()}",
        data={"review": review.pk, "action": "returned"},
    )
    return review


@transaction.atomic
def review_publish(
    *, review: PostIncidentReview, actor, now: datetime | None = None
) -> PostIncidentReview:
    """In review -> published; every paragraph of the template must be filled in.

    Publishing needs "change incident" and escalations.publish_review.
    """
    require(actor, "review.publish", incident=review.incident)
    now = resolve_now(now)
    review = _locked_review(review)
    if review.status != ReviewStatus.IN_REVIEW:
        raise ValidationError("Submit the review for review before publishing it.")
    _check_complete(review)
    review.status = ReviewStatus.PUBLISHED
    review.published_at = now
    review.published_by = actor if getattr(actor, "pk", None) else None
    review.updated_at = now
    review.save()
    on_time = review.due_at is None or now <= review.due_at
    incident_event_append(
        incident=review.incident,
        kind=EventKind.REVIEW_PUBLISHED,
        actor=actor,
        at=now,
        body="Post-incident review published"
        + ("." if on_time else f", after its due time {notices.when(review.due_at)}."),
        data={"review": review.pk, "on_time": on_time},
    )
    reminders.review_schedule(review, now)
    # Seed 004: "Follow up with customer on prevention".
    notifications_enqueue_many(notices.customer_follow_up(review=review, now=now))
    return review


# --- similar incidents ----------------------------------------------------------------------


def similar_suggestions(
    review: PostIncidentReview, user, limit: int = 8, *, opened_before: datetime | None = None
):
    """Incidents with the same component or root-cause key that `user` may see,
    not yet confirmed, newest first (opened before `opened_before` if given). A
    person confirms them."""
    incident = review.incident
    keys = {key for key in (review.root_cause_key, incident.root_cause_key) if key}
    if not keys and incident.component_id is None:
        return Incident.objects.none()
    from django.db.models import Q

    match = Q(root_cause_key__in=keys) if keys else Q()
    if incident.component_id:
        match |= Q(component_id=incident.component_id)
    confirmed = review.similar_links.values("incident_id")
    if opened_before is not None:
        match &= Q(opened_at__lt=opened_before)
    return (
        incidents_visible_to(user)
        .filter(match)
        .exclude(pk=incident.pk)
        .exclude(pk__in=confirmed)
        .order_by("-opened_at")[:limit]
    )


@transaction.atomic
def review_confirm_similar(
    *, review: PostIncidentReview, actor, incidents: list[Incident], now: datetime | None = None
) -> PostIncidentReview:
    require(actor, "review.confirm_similar", incident=review.incident)
    now = resolve_now(now)
    review = _locked_review(review)
    if not review.is_editable:
        raise ValidationError("A published review no longer changes.")
    visible = set(
        incidents_visible_to(actor)
        .filter(pk__in=[i.pk for i in incidents])
        .values_list("pk", flat=True)
    )
    if not incidents:
        raise ValidationError({"incidents": "Pick the incidents that are similar."})
    for incident in incidents:
        if incident.pk == review.incident_id:
            raise ValidationError({"incidents": "An incident is not similar to itself."})
        if incident.pk not in visible:
            raise ValidationError({"incidents": "No such incident."})
        SimilarIncident.objects.get_or_create(
            review=review,
            incident=incident,
            defaults={"confirmed_by": actor, "confirmed_at": now},
        )
    return review


@transaction.atomic
def review_remove_similar(
    *, review: PostIncidentReview, actor, incident: Incident, now: datetime | None = None
) -> PostIncidentReview:
    require(actor, "review.remove_similar", incident=review.incident)
    # The linked incident too: a link to one the actor may not see does not exist for them.
    require(actor, "review.remove_similar", incident=incident)
    review = _locked_review(review)
    if not review.is_editable:
        raise ValidationError("A published review no longer changes.")
    review.similar_links.filter(incident=incident).delete()
    return review


# --- action items ---------------------------------------------------------------------------


def item_due_at(due_date: date, owner) -> datetime:
    """The end of the due date where the owner lives."""
    zone = owner.time_zone if owner is not None else timezone.get_default_timezone()
    return datetime.combine(due_date + timedelta(days=1), time(0), tzinfo=zone)


def _item_event(item: ActionItem, *, actor, now: datetime, body: str, action: str) -> None:
    incident_event_append(
        incident=item.incident,
        kind=EventKind.ACTION_ITEM,
        actor=actor,
        at=now,
        body=body,
        data={"item": item.pk, "action": action, "owner": str(item.owner)},
    )


@transaction.atomic
def action_item_add(
    *,
    review: PostIncidentReview,
    actor,
    title: str,
    owner,
    due_date: date,
    description: str = "",
    is_permanent_fix: bool = False,
    now: datetime | None = None,
) -> ActionItem:
    require(actor, "action_item.add", incident=review.incident)
    now = resolve_now(now)
    review = _locked_review(review)
    errors: dict[str, str] = {}
    if not review.is_editable:
        raise ValidationError("A published review no longer changes.")
    if not (title or "").strip():
        errors["title"] = "Say what has to be done."
    if owner is None:
        errors["owner"] = "Every action item has one owner."
    check_person(owner, review.incident, "owner", errors)
    check_due_date(due_date, owner, now, errors)
    if errors:
        raise ValidationError(errors)
    item = ActionItem.objects.create(
        review=review,
        incident=review.incident,
        title=title.strip(),
        description=(description or "").strip(),
        owner=owner,
        due_date=due_date,
        due_at=item_due_at(due_date, owner),
        is_permanent_fix=is_permanent_fix,
        created_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _item_event(
        item,
        actor=actor,
        now=now,
        body=f"Action item: {item.title} [Owner: {owner}] due {due_date.isoformat()}.",
        action="added",
    )
    notifications_enqueue_many(
        reminders.item_notices(item, reminders.Reminder("assigned", now, item.due_at), now=now)
    )
    reminders.item_schedule(item, now)
    return item


def _locked_item(item: ActionItem) -> ActionItem:
    return (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("incident", "incident__policy", "owner", "review")
        .get(pk=item.pk)
    )


@transaction.atomic
def action_item_update(
    *,
    item: ActionItem,
    actor,
    owner=None,
    due_date: date | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Hand an open item to someone else, move its due date, or mark it in progress."""
    require(actor, "action_item.update", incident=item.incident)
    now = resolve_now(now)
    item = _locked_item(item)
    if not item.is_open:
        raise ValidationError("The action item is closed.")
    errors: dict[str, str] = {}
    changes = []
    handed_over = owner is not None and owner.pk != item.owner_id
    if handed_over:
        check_person(owner, item.incident, "owner", errors)
        changes.append(f"owner {item.owner} -> {owner}")
        item.owner = owner
    if due_date is not None and due_date != item.due_date:
        check_due_date(due_date, item.owner, now, errors)
        changes.append(f"due {item.due_date.isoformat()} -> {due_date.isoformat()}")
        item.due_date = due_date
    if status is not None and status != item.status:
        if status not in (ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS):
            errors["status"] = "Close the item to mark it done or dropped."
        else:
            changes.append(f"{item.get_status_display().lower()} -> {status.replace('_', ' ')}")
            item.status = status
    if errors:
        raise ValidationError(errors)
    if not changes:
        return item
    item.due_at = item_due_at(item.due_date, item.owner)
    item.save()
    _item_event(
        item,
        actor=actor,
        now=now,
        body=f"Action item {item.title}: {', '.join(changes)}.",
        action="changed",
    )
    if handed_over:  # the new owner hears about it, as on creation
        notifications_enqueue_many(
            reminders.item_notices(item, reminders.Reminder("assigned", now, item.due_at), now=now)
        )
    reminders.item_schedule(item, now)
    return item


@transaction.atomic
def action_item_close(
    *, item: ActionItem, actor, status: str, note: str = "", now: datetime | None = None
) -> ActionItem:
    """Done or dropped (won't do, with a reason); who and when are kept for the metrics."""
    require(actor, "action_item.close", incident=item.incident)
    now = resolve_now(now)
    item = _locked_item(item)
    if not item.is_open:
        raise ValidationError("The action item is closed already.")
    if status not in (ActionItemStatus.DONE, ActionItemStatus.WONT_DO):
        raise ValidationError({"status": "Close as done or won't do."})
    if status == ActionItemStatus.WONT_DO and not note.strip():
        raise ValidationError({"note": "Say why it will not be done."})
    item.status = status
    item.closed_at = now
    item.closed_by = actor if getattr(actor, "pk", None) else None
    item.closing_note = note.strip()
    item.save()
    on_time = now <= item.due_at
    word = "done" if status == ActionItemStatus.DONE else "dropped"
    _item_event(
        item,
        actor=actor,
        now=now,
        body=f"Action item {word}: {item.title}"
        + ("" if on_time else " (after its due date)")
        + (f". {item.closing_note}" if item.closing_note else "."),
        action=status,
    )
    reminders.item_schedule(item, now)
    return item


# --- the document -----------------------------------------------------------------------------


def review_doc(review: PostIncidentReview, *, reader, now: datetime | None = None) -> ReviewDoc:
    """Everything the exports and the page show to `reader`, as plain values.

    Similar incidents `reader` may not see (security ones) are left out."""

    now = resolve_now(now)
    incident = review.incident
    statuses = incident_facts(incident).statuses
    items = review.action_items.select_related("owner").order_by("due_at", "id")
    similar = (
        review.similar_links.select_related("incident")
        .filter(visibility_q(reader, "incident__"))
        .order_by("confirmed_at", "id")
    )
    return ReviewDoc(
        incident_id=incident.reference,
        title=incident.title,
        severity=incident.severity,
        status=review.get_status_display(),
        duration=outage_duration(statuses, now),
        customers_impacted=review.customers_impacted,
        business_impact=review.business_impact,
        timeline=tuple(
            (datetime.fromisoformat(entry["at"]), entry["text"]) for entry in review.timeline
        ),
        what_happened=review.root_cause_what,
        why_happened=review.root_cause_why,
        why_not_caught=review.root_cause_not_caught,
        contributing_factors=tuple(review.contributing_factors),
        went_well=tuple(review.went_well),
        went_poorly=tuple(review.went_poorly),
        action_items=tuple(
            ItemLine(
                title=item.title,
                owner=str(item.owner),
                due_date=item.due_date,
                status=item.get_status_display(),
                closed=not item.is_open,
            )
            for item in items
        ),
        prevention_confidence=review.get_prevention_confidence_display()
        if review.prevention_confidence
        else "",
        similar_incidents=tuple(link.incident.reference for link in similar),
        published_at=review.published_at,
        required_reasons=tuple(review.required_reasons),
    )


def review_file(review, *, reader, zone: tzinfo, kind: str) -> HttpResponse:
    """The review as `reader` may see it, times in `zone`, as `<reference>-pir.<kind>`
    (kind "md" or "yaml"): the web's pir.md / pir.yaml and the API's exports."""
    render, content_type = FILE_KINDS[kind]
    text = render(review_doc(review, reader=reader), zone)
    return download(text, content_type, f"{review.incident.reference}-pir.{kind}")
