"""Reads. Every list, page, search, count and admin view of incidents starts
from `incidents_visible_to`, so the security rule lives in one place."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, Count, F, Max, Prefetch, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.http import Http404

from incidents.models import EventKind, Incident, IncidentEvent, Visibility
from incidents.rules import PublicState
from portal.roles import VIEW_DATA_BREACH, VIEW_SECURITY


def can_see_security_incidents(user) -> bool:
    return bool(user and user.is_active and user.has_perm(VIEW_SECURITY))


def _may_view_incidents(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm("incidents.view_incident")
    )


def incidents_visible_to(user, queryset: QuerySet[Incident] | None = None) -> QuerySet[Incident]:
    """Incidents `user` may know exist (seed 000: security details go to few people)."""
    queryset = Incident.objects.all() if queryset is None else queryset
    if not _may_view_incidents(user):
        return queryset.none()
    return queryset.filter(visibility_q(user))


def visibility_q(user, prefix: str = "") -> Q:
    """The same rule as a Q over incidents reached through `prefix` (e.g. "incident__"),
    for reads that start from escalations, notifications or reviews."""
    if not _may_view_incidents(user):
        return Q(**{f"{prefix}pk__in": []})
    if can_see_security_incidents(user):
        return Q()
    visible = Q(**{f"{prefix}is_security": False}) | Q(**{f"{prefix}assignee": user})
    if user.has_perm(VIEW_DATA_BREACH):
        # Seed 000 Security Incident: "Coordinate with legal if data breach": Legal is
        # cleared for security incidents with data loss (Incident.is_data_breach).
        visible |= Q(**{f"{prefix}is_security": True, f"{prefix}is_data_loss": True})
    return visible


def incident_for_user(user, reference: str) -> Incident:
    """One incident by reference, or 404 (never 403: a hidden one does not exist)."""
    if "\x00" in reference:  # PostgreSQL cannot compare text holding NUL: no such incident
        raise Http404("No such incident.")
    queryset = incidents_visible_to(user).select_related(
        "channel", "category", "component", "account", "assignee", "created_by", "policy"
    )
    try:
        return queryset.get(reference=reference)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def incident_timeline(incident: Incident, *, public_only: bool = False) -> QuerySet[IncidentEvent]:
    events = incident.events.select_related("actor").order_by("at", "id")
    if public_only:
        events = events.filter(visibility="public")
    return events


def user_can_change(user, incident: Incident) -> bool:
    return (
        user.has_perm("incidents.change_incident")
        and incidents_visible_to(user).filter(pk=incident.pk).exists()
    )


# --- the public status page (/status/, no sign-in) -----------------------------------------

STATUS_PAGE_EVENT_KINDS = (EventKind.STATUS_PAGE_PUBLISHED, EventKind.STATUS_PAGE_UPDATE)


def status_page_posts_shown() -> Q:
    """The one rule for which status-page posts are still shown, on the public page and on
    the customer's own page alike: those since the incident was last published (none while
    it is not published: withdrawn posts are not "on our public status page")."""
    return Q(kind__in=STATUS_PAGE_EVENT_KINDS, at__gte=F("incident__status_page_published_at"))


def customer_timeline(incident: Incident) -> QuerySet[IncidentEvent]:
    """The public timeline the customer's status page shows: public entries, status-page
    posts only while they are on the public page (status_page_posts_shown)."""
    return (
        incident.events.filter(visibility=Visibility.PUBLIC)
        .filter(~Q(kind__in=STATUS_PAGE_EVENT_KINDS) | status_page_posts_shown())
        .order_by("at", "id")
    )


def _status_page_shown(*, now, resolved_days: int) -> QuerySet[Incident]:
    """The incidents the public page shows, annotated with `public_resolved_at`."""
    since = now - timedelta(days=resolved_days)
    return (
        Incident.objects.filter(status_page_published_at__isnull=False, is_security=False)
        .annotate(
            public_resolved_at=Coalesce(
                "status_page_resolved_at",
                Case(When(resolved_at__gt=F("status_page_published_at"), then=F("resolved_at"))),
            )
        )
        .filter(Q(public_resolved_at__isnull=True) | Q(public_resolved_at__gte=since))
    )


def status_page_version(*, now, resolved_days: int) -> str:
    """What the public page's ETag is made of: the shown incidents' count and latest change
    and the newest post shown (two small queries, no render). Any publication, update,
    title change, withdrawal or incident leaving the page changes it; the clock alone does not."""
    shown = _status_page_shown(now=now, resolved_days=resolved_days)
    figures = shown.aggregate(count=Count("id"), changed=Max("updated_at"))
    newest = IncidentEvent.objects.filter(
        status_page_posts_shown(), incident__in=shown.values("id")
    ).aggregate(newest=Max("id"))["newest"]
    changed = figures["changed"].timestamp() if figures["changed"] else 0
    return f"{resolved_days}-{figures['count']}-{changed:.6f}-{newest or 0}"


def status_page_incidents(*, now, resolved_days: int) -> list[Incident]:
    """What the public status page shows: published incidents that are not security
    incidents, still unresolved or resolved within `resolved_days`, most severe and newest
    first, each with `public_updates` (newest first, only those since it was last
    published). Two queries, whatever the number of incidents and updates.

    Each incident gets `public_state` (a PublicState), decided here and only here:
    publicly resolved means a "Resolved" public update, or the incident itself resolved
    after it was published (the page never shows a finished incident as ongoing; a
    resolution from before the publication does not override what the publisher chose)."""
    updates = (
        IncidentEvent.objects.filter(status_page_posts_shown())
        .only("id", "incident_id", "at", "kind", "body", "data")
        .order_by("-at", "-id")
    )
    incidents = (
        _status_page_shown(now=now, resolved_days=resolved_days)
        .only(
            "id",
            "status",
            "severity",
            "resolved_at",
            "status_page_published_at",
            "status_page_title",
            "status_page_state",
            "status_page_resolved_at",
        )
        .order_by(F("public_resolved_at").desc(nulls_first=True), "severity", "-opened_at")
        .prefetch_related(Prefetch("events", queryset=updates, to_attr="public_updates"))
    )
    shown = list(incidents)
    for incident in shown:
        incident.public_state = (
            PublicState.RESOLVED
            if incident.public_resolved_at is not None
            else PublicState(incident.status_page_state or PublicState.INVESTIGATING)
        )
    return shown
