"""Reads of the outbox and of inbound mail that follow the incident visibility rule."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from incidents.selectors import can_see_security_incidents, incidents_visible_to, visibility_q
from notifications.models import InboundMessage, Notification


def notifications_visible_to(user, queryset: QuerySet[Notification] | None = None):
    """Notifications `user` may read.

    One about an incident: whoever may see that incident. One about no incident
    (the weekly report): its recipient, and people who may see security
    incidents. A report counts what its recipient may see, security incidents
    included for some, so showing it to anyone else could reveal counts of
    incidents they may not know exist (issue 15, finding 4).
    """
    queryset = Notification.objects.all() if queryset is None else queryset
    about_incident = Q(incident__isnull=False) & visibility_q(user, "incident__")
    if can_see_security_incidents(user):
        incident_less = Q(incident__isnull=True)
    else:
        incident_less = Q(incident__isnull=True, recipient_user=user.pk)
    return queryset.filter(about_incident | incident_less)


def escalation_notice_statuses(incident) -> dict[int, str]:
    """Escalation id -> status of the customer's "escalation acknowledged" email
    (compose.customer_acknowledgement's dedup base), for the handoff checklist."""
    prefix = "customer_ack:escalation:"
    statuses = {}
    rows = Notification.objects.filter(incident=incident, dedup_key__startswith=prefix)
    for key, status in rows.values_list("dedup_key", "status"):
        escalation = key[len(prefix) :].split(":", 1)[0]
        if escalation.isdigit():
            statuses[int(escalation)] = status
    return statuses


def inbound_visible_to(user, queryset: QuerySet[InboundMessage] | None = None):
    """Inbound mail `user` may read: unmatched mail (for triage), and mail about an
    incident they may see."""
    queryset = InboundMessage.objects.all() if queryset is None else queryset
    visible = incidents_visible_to(user)
    return queryset.filter(incident__isnull=True) | queryset.filter(incident__in=visible)
