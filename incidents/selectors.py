"""Reads. Every list, page, search, count and admin view of incidents starts
from `incidents_visible_to`, so the security rule lives in one place."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from incidents.models import Incident, IncidentEvent
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

STATUS_PAGE_EVENT_KINDS = ("status_page_published", "status_page_update")


def status_page_incidents(*, now, resolved_days: int) -> list[Incident]:
    """What the public status page shows: published incidents that are not security
    incidents, still unresolved or resolved within `resolved_days`, most severe and newest
    first, each with `public_updates` (newest first, only those since it was last
    published). Two queries, whatever the number of incidents and updates.

    Publicly resolved means a "Resolved" public update, or the incident itself resolved
    or closed: the page never shows a finished incident as ongoing."""
    from datetime import timedelta

    from django.db.models import F, Prefetch
    from django.db.models.functions import Coalesce

    since = now - timedelta(days=resolved_days)
    updates = (
        IncidentEvent.objects.filter(
            kind__in=STATUS_PAGE_EVENT_KINDS,
            at__gte=F("incident__status_page_published_at"),
        )
        .only("id", "incident_id", "at", "kind", "body", "data")
        .order_by("-at", "-id")
    )
    incidents = (
        Incident.objects.filter(status_page_published_at__isnull=False, is_security=False)
        .annotate(public_resolved_at=Coalesce("status_page_resolved_at", "resolved_at"))
        .filter(Q(public_resolved_at__isnull=True) | Q(public_resolved_at__gte=since))
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
    return list(incidents)
