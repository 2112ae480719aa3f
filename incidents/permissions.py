"""One permission rule per state-changing action, asked by the service.

Each service that changes state calls `require(actor, "<action>", incident=...)`
first, so the web pages, the admin, the API and the tasks cannot disagree: they
may refuse earlier (a decorator, `ActionPermissions`, an admin action that is not
offered) but never later. The routes only map the refusal:

- `ActionNotAllowed` (a `PermissionDenied`): the role may not do this. Django and
  DRF answer 403; the admin shows a message.
- `NotVisible` (an `Http404`): the incident is one the actor may not see
  (security incidents, seed 000). It answers 404, the same as a missing object,
  so ids of hidden objects are not revealed.

`actor=None` is the system (SLA sweep, reminders, alert webhooks, customers on
their status page); system work is never refused here. Admin actions declare
`permissions=[...]` with `has_<name>_permission = admin_check("<action>")`, so
Django offers only what the rule allows; the service refuses anyway.

The table below is the README's "who may do what" and the one the role x action
test (tests/portal/test_permission_rules.py) walks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from incidents.selectors import incidents_visible_to
from portal.roles import PUBLISH_STATUS_PAGE, ROLE_PERMISSIONS

VIEW_INCIDENT = "incidents.view_incident"
CHANGE_INCIDENT = "incidents.change_incident"


class Refusal(Exception):
    """What every refusal of `require` is; catch this to turn it into a message."""


class ActionNotAllowed(Refusal, PermissionDenied):
    """The actor's role may not do the action: 403."""

    def __init__(self, action: str, message: str = ""):
        self.action = action
        super().__init__(message or f"You may not do this ({RULES[action].label}).")


class NotVisible(Refusal, Http404):
    """The action concerns an incident the actor may not see: 404, as if it did not exist."""

    def __init__(self, action: str):
        self.action = action
        super().__init__("No such incident.")


@dataclass(frozen=True)
class Rule:
    label: str
    permissions: tuple[str, ...]
    # The actor must also be able to see the incident the action concerns.
    on_incident: bool = True
    # Actions on a person's own things (their cover requests, their schedule): who the
    # actor must be for the object the service passes as `obj`, and those words, for the
    # refusal and the rule table. Asked only with an object: a route's early check, made
    # before the object is looked up, asks the permissions alone.
    relation: Callable[[Any, Any], bool] | None = None
    who: str = ""


def _change(label: str, *extra: str) -> Rule:
    return Rule(label, (CHANGE_INCIDENT, *extra))


RULES: dict[str, Rule] = {
    # incidents.services
    "incident.create": Rule("open an incident", ("incidents.add_incident",), on_incident=False),
    "incident.update_details": _change("edit an incident's details"),
    "incident.acknowledge": _change("acknowledge an incident"),
    "incident.change_status": _change("change an incident's status"),
    "incident.reopen": _change("reopen an incident"),
    "incident.assign": _change("assign an incident"),
    "incident.change_severity": _change("change an incident's severity"),
    "incident.comment": _change("add an internal note"),
    "incident.post_public_update": _change("post a customer update"),
    # the public status page (seed 002): managers and team leads, who command incidents
    "status_page.publish": _change(
        "publish an incident on the public status page", PUBLISH_STATUS_PAGE
    ),
    "status_page.set_title": _change("change an incident's public title", PUBLISH_STATUS_PAGE),
    "status_page.post_update": _change("post a public status page update", PUBLISH_STATUS_PAGE),
    "status_page.withdraw": _change(
        "withdraw an incident from the public status page", PUBLISH_STATUS_PAGE
    ),
    # escalations.engine.services
    "escalation.escalate": _change("escalate"),
    "escalation.escalate_as_management": _change(
        "escalate for a management reason", "escalations.escalate_as_management"
    ),
    "escalation.acknowledge_handoff": _change("acknowledge a handoff"),
    "escalation.record_decision": _change("record a decision", "escalations.record_decision"),
    "escalation.de_escalate": _change("de-escalate"),
    "escalation.manager_request": _change("record a customer's request for a manager"),
    # escalations.followup.reviews
    "review.create": _change("start a post-incident review"),
    "review.update": _change("edit a post-incident review"),
    "review.submit": _change("submit a post-incident review"),
    "review.publish": _change("publish a post-incident review", "escalations.publish_review"),
    "review.return_to_draft": _change(
        "send a post-incident review back to draft", "escalations.publish_review"
    ),
    "review.confirm_similar": _change("confirm similar incidents"),
    "review.remove_similar": _change("remove a similar incident"),
    "action_item.add": _change("add an action item"),
    "action_item.update": _change("change an action item"),
    "action_item.close": _change("close an action item"),
    # escalations.followup.war_room (only the commander logs decisions: the service's own check)
    "war_room.activate": _change("activate a war room"),
    "war_room.assign": _change("assign a war-room role"),
    "war_room.release": _change("release a war-room role"),
    "war_room.log_decision": _change("log a war-room decision"),
    "war_room.set_cadence": _change("change a war room's update cadence"),
    "war_room.close": _change("stand a war room down"),
    # escalations.followup.vendors
    "vendor_case.open": _change("open a vendor case"),
    "vendor_case.record_update": _change("record a vendor update"),
    "vendor_case.close": _change("close a vendor case"),
    # escalations.followup.regulatory (seed 002 "Regulatory Reporting"): whoever sees the
    # incident sees its report (why, due, filed: its timeline says as much); Legal and
    # managers decide that one is required and record it filed. The page, the API and the
    # admin all ask these rules.
    "regulatory_report.view": Rule("see an incident's regulatory report", (VIEW_INCIDENT,)),
    "regulatory_report.require": Rule(
        "mark an incident as needing a regulatory report",
        ("escalations.file_regulatory_report",),
    ),
    "regulatory_report.file": Rule(
        "record a regulatory report as filed", ("escalations.file_regulatory_report",)
    ),
    # escalations.policies.services
    "policy.activate": Rule("activate a policy", ("escalations.change_policy",), False),
    "policy.fork": Rule("draft a new policy version", ("escalations.change_policy",), False),
    "policy.set_default": Rule("set the default policy", ("escalations.change_policy",), False),
    "policy.move_open_incidents": Rule(
        "move open incidents to a policy version", ("escalations.change_policy",), False
    ),
    "policy.edit_draft": Rule("edit a policy draft", ("escalations.change_policy",), False),
    # escalations.policies.calendars (the calendar library)
    "calendar.add": Rule("add a business calendar", ("escalations.add_calendar",), False),
    "calendar.change": Rule("change a business calendar", ("escalations.change_calendar",), False),
    # escalations.schedules.services (reading who is on call needs only a sign-in)
    "schedule.create": Rule(
        "create an on-call schedule", ("escalations.add_oncallschedule",), False
    ),
    "schedule.update": Rule(
        "change an on-call schedule", ("escalations.change_oncallschedule",), False
    ),
    "schedule.import_ical": Rule(
        "import an on-call schedule from iCal",
        ("escalations.add_oncallschedule", "escalations.change_oncallschedule"),
        False,
    ),
    "schedule.add_override": Rule(
        "add an on-call override", ("escalations.add_oncalloverride",), False
    ),
    "schedule.remove_override": Rule(
        "remove an on-call override", ("escalations.delete_oncalloverride",), False
    ),
    # escalations.schedules.services: people's own cover requests and shifts. Anyone signed
    # in holds the (no) permissions; the relation to the schedule or request decides.
    "schedule.request_cover": Rule(
        "ask someone to cover an on-call shift",
        (),
        False,
        relation=lambda actor, schedule: schedule.has_member(actor),
        who="schedule member",
    ),
    "schedule.accept_cover": Rule(
        "accept a cover request",
        (),
        False,
        relation=lambda actor, request: request.to_person_id == actor.pk,
        who="person asked",
    ),
    "schedule.decline_cover": Rule(
        "decline a cover request",
        (),
        False,
        relation=lambda actor, request: request.to_person_id == actor.pk,
        who="person asked",
    ),
    "schedule.cancel_cover": Rule(
        "cancel a cover request",
        (),
        False,
        relation=lambda actor, request: request.from_person_id == actor.pk,
        who="person asking",
    ),
    "schedule.take_shift": Rule(
        "take the on-call shift now",
        (),
        False,
        relation=lambda actor, schedule: schedule.has_member(actor),
        who="schedule member",
    ),
    # notifications
    "notification.retry": Rule(
        "send a notification again", ("notifications.change_notification",), False
    ),
    # It writes the customer's reply on the incident's timeline: working on the incident.
    "inbound.attach": _change(
        "attach customer mail to an incident", "notifications.change_inboundmessage"
    ),
    # incidents.alerts
    "integration.create": Rule("add an alert integration", ("incidents.add_integration",), False),
    "integration.rotate_secret": Rule(
        "rotate an alert integration's secret", ("incidents.change_integration",), False
    ),
    "integration.revoke": Rule(
        "revoke an alert integration", ("incidents.change_integration",), False
    ),
}


def permissions(action: str) -> list[str]:
    """The Django permissions the action needs (for DRF's `required_permissions`)."""
    return list(RULES[action].permissions)


def _may_see(user, incident) -> bool:

    return incidents_visible_to(user).filter(pk=incident.pk).exists()


def allowed(user, action: str, incident=None, obj=None) -> bool:
    """Whether `user` may do `action` (on `incident`, on `obj`), without raising."""
    try:
        require(user, action, incident=incident, obj=obj)
    except Refusal:
        return False
    return True


def require(actor, action: str, *, incident=None, obj=None) -> None:
    """Refuse unless `actor` may do `action`; None (the system) always may.

    A role that may not do the action at all hears 403 before anything about the
    incident is looked up; then an incident it may not see is a 404. A rule with a
    relation refuses (403) an actor who is not who it names for `obj`.
    """
    rule = RULES[action]  # a KeyError here is a typo in a service: fail loudly
    if actor is None:
        return
    if not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise ActionNotAllowed(action)
    if not actor.has_perms(rule.permissions):
        raise ActionNotAllowed(action)
    if rule.on_incident and incident is not None and not _may_see(actor, incident):
        raise NotVisible(action)
    if rule.relation is not None and obj is not None and not rule.relation(actor, obj):
        raise ActionNotAllowed(action, f"Only the {rule.who} may {rule.label}.")


def admin_check(action: str):
    """A ModelAdmin `has_<name>_permission` method asking the rule (no incident:
    the admin's lists show only visible rows, and the service checks each row)."""

    def has_permission(self, request, obj=None) -> bool:
        return allowed(request.user, action)

    has_permission.__name__ = f"has_{action.replace('.', '_')}_permission"
    return has_permission


ROLE_COLUMNS = {
    "Support Agent": "Agent",
    "Team Lead": "Lead",
    "Engineering Manager": "Eng. Mgr",
    "Director": "Director",
    "Governance Liaison": "Gov.",
    "Executive": "Exec.",
    "Security": "Security",
    "Product": "Product",
    "Customer Success": "CS",
    "Legal": "Legal",
    "VP": "VP",
}


def rule_table() -> str:
    """The role x action table as Markdown (README, issue 15), from the roles' own
    permission lists: "yes" where the role holds every permission the rule needs (for a
    rule with a relation, who the actor must be, e.g. "person asked")."""

    header = ["action", "rule", *ROLE_COLUMNS.values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, rule in RULES.items():
        cells = [
            (rule.who or "yes") if set(rule.permissions) <= set(ROLE_PERMISSIONS[role]) else "-"
            for role in ROLE_COLUMNS
        ]
        lines.append(f"| {rule.label} | `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
