"""Every admin action and every API action, for every role, against the rule table
(incidents.permissions.RULES): allowed -> the action takes effect; refused -> the
admin does not offer it, running it anyway changes nothing and says why, and
the API answers 403. The expectation comes from the roles' permission lists
(portal.roles), not from the code under test."""

from __future__ import annotations

import pytest
from django.contrib import admin, messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from incidents.permissions import RULES
from portal.roles import ALL_ROLES
from tests.api_client import token_client
from tests.portal.permission_world import World, expected

pytestmark = pytest.mark.django_db

# (admin model, action) -> the rule its service asks. A new admin action must be added
# here (test_every_admin_action_has_a_rule), and so gets walked for every role.
ADMIN_ACTIONS = {
    ("incidents.incident", "acknowledge"): "incident.acknowledge",
    ("incidents.incident", "assign_to_me"): "incident.assign",
    ("incidents.incident", "assign"): "incident.assign",
    ("incidents.incident", "change_status"): "incident.change_status",
    ("incidents.incident", "change_severity"): "incident.change_severity",
    ("incidents.incident", "comment"): "incident.comment",
    ("incidents.incident", "post_update"): "incident.post_public_update",
    ("incidents.incident", "reopen"): "incident.reopen",
    ("incidents.incident", "close_resolved"): "incident.change_status",
    ("incidents.incident", "status_page_publish"): "status_page.publish",
    ("incidents.incident", "status_page_update"): "status_page.post_update",
    ("incidents.incident", "status_page_set_title"): "status_page.set_title",
    ("incidents.incident", "status_page_withdraw"): "status_page.withdraw",
    ("incidents.incident", "escalate"): "escalation.escalate",
    ("incidents.incident", "de_escalate"): "escalation.de_escalate",
    ("incidents.integration", "rotate_secret"): "integration.rotate_secret",
    ("incidents.integration", "revoke"): "integration.revoke",
    ("escalations.policy", "activate"): "policy.activate",
    ("escalations.policy", "make_default"): "policy.set_default",
    ("escalations.policy", "new_version"): "policy.fork",
    ("escalations.policy", "move_open_incidents"): "policy.move_open_incidents",
    ("escalations.escalation", "acknowledge"): "escalation.acknowledge_handoff",
    ("escalations.escalation", "decide"): "escalation.record_decision",
    ("escalations.postincidentreview", "submit"): "review.submit",
    ("escalations.postincidentreview", "publish"): "review.publish",
    ("escalations.actionitem", "mark_in_progress"): "action_item.update",
    ("escalations.actionitem", "mark_done"): "action_item.close",
    ("escalations.warroom", "stand_down"): "war_room.close",
    ("escalations.vendorcase", "close_cases"): "vendor_case.close",
    ("escalations.regulatoryreport", "record_filed"): "regulatory_report.file",
    ("notifications.notification", "retry"): "notification.retry",
    ("notifications.inboundmessage", "attach_to_incident"): "inbound.attach",
}

# API action (viewset, DRF action) -> the rule; the world's `api_<name>` builds its target.
API_ACTIONS = {
    "incident_create": ("incidents", "IncidentViewSet", "create", "incident.create"),
    "incident_update": (
        "incidents",
        "IncidentViewSet",
        "partial_update",
        "incident.update_details",
    ),
    "incident_acknowledge": ("incidents", "IncidentViewSet", "acknowledge", "incident.acknowledge"),
    "incident_comment": ("incidents", "IncidentViewSet", "comment", "incident.comment"),
    "incident_public_update": (
        "incidents",
        "IncidentViewSet",
        "public_update",
        "incident.post_public_update",
    ),
    "incident_resolve": ("incidents", "IncidentViewSet", "resolve", "incident.change_status"),
    "incident_pause": ("incidents", "IncidentViewSet", "pause", "incident.change_status"),
    "incident_resume": ("incidents", "IncidentViewSet", "resume", "incident.change_status"),
    "incident_reopen": ("incidents", "IncidentViewSet", "reopen", "incident.reopen"),
    "incident_status": ("incidents", "IncidentViewSet", "change_status", "incident.change_status"),
    "incident_assign": ("incidents", "IncidentViewSet", "assign", "incident.assign"),
    "incident_severity": (
        "incidents",
        "IncidentViewSet",
        "change_severity",
        "incident.change_severity",
    ),
    "status_page_publish": (
        "incidents",
        "IncidentViewSet",
        "status_page_publish",
        "status_page.publish",
    ),
    "status_page_title": (
        "incidents",
        "IncidentViewSet",
        "status_page_title",
        "status_page.set_title",
    ),
    "status_page_update": (
        "incidents",
        "IncidentViewSet",
        "status_page_update",
        "status_page.post_update",
    ),
    "status_page_withdraw": (
        "incidents",
        "IncidentViewSet",
        "status_page_withdraw",
        "status_page.withdraw",
    ),
    "escalate": ("incidents", "IncidentEscalationViewSet", "escalate", "escalation.escalate"),
    "escalate_as_management": (
        "incidents",
        "IncidentEscalationViewSet",
        "escalate",
        "escalation.escalate_as_management",
    ),
    "acknowledge_handoff": (
        "incidents",
        "IncidentEscalationViewSet",
        "acknowledge_handoff",
        "escalation.acknowledge_handoff",
    ),
    "de_escalate": (
        "incidents",
        "IncidentEscalationViewSet",
        "de_escalate",
        "escalation.de_escalate",
    ),
    "manager_request": (
        "incidents",
        "IncidentEscalationViewSet",
        "manager_request",
        "escalation.manager_request",
    ),
    "regulatory_report_require": (
        "incidents",
        "IncidentEscalationViewSet",
        "regulatory_report_require",
        "regulatory_report.require",
    ),
    "regulatory_report_file": (
        "incidents",
        "IncidentEscalationViewSet",
        "regulatory_report_file",
        "regulatory_report.file",
    ),
    "decide": ("escalations", "EscalationViewSet", "decide", "escalation.record_decision"),
    "review_create": ("reviews", "ReviewViewSet", "create", "review.create"),
    "review_update": ("reviews", "ReviewViewSet", "partial_update", "review.update"),
    "review_submit": ("reviews", "ReviewViewSet", "submit", "review.submit"),
    "review_publish": ("reviews", "ReviewViewSet", "publish", "review.publish"),
    "review_return": ("reviews", "ReviewViewSet", "return_to_draft", "review.return_to_draft"),
    "action_item_create": ("action-items", "ActionItemViewSet", "create", "action_item.add"),
    "action_item_update": (
        "action-items",
        "ActionItemViewSet",
        "partial_update",
        "action_item.update",
    ),
    "action_item_close": ("action-items", "ActionItemViewSet", "close", "action_item.close"),
    "schedule_create": ("schedules", "ScheduleViewSet", "create", "schedule.create"),
    "schedule_update": ("schedules", "ScheduleViewSet", "update", "schedule.update"),
    "schedule_partial_update": (
        "schedules",
        "ScheduleViewSet",
        "partial_update",
        "schedule.update",
    ),
    "schedule_take": ("schedules", "ScheduleViewSet", "take", "schedule.take_shift"),
    "override_create": ("schedules", "OverrideViewSet", "create", "schedule.add_override"),
    "override_destroy": ("schedules", "OverrideViewSet", "destroy", "schedule.remove_override"),
    "cover_request": ("schedules", "CoverRequestViewSet", "create", "schedule.request_cover"),
    "cover_accept": ("schedules", "CoverRequestViewSet", "accept", "schedule.accept_cover"),
    "cover_decline": ("schedules", "CoverRequestViewSet", "decline", "schedule.decline_cover"),
    "cover_cancel": ("schedules", "CoverRequestViewSet", "cancel", "schedule.cancel_cover"),
}
READS = {
    "list",
    "retrieve",
    "timeline",
    "escalation_options",
    "regulatory_report",
    "markdown",
    "yaml",
    "on_call",
}


@pytest.fixture
def world(db):
    from django.apps import apps
    from django.contrib.auth.models import Group

    from portal.roles import sync_roles

    if Group.objects.count() < len(ALL_ROLES):  # a transactional test flushed them
        sync_roles(apps)
    return World()


def _admin_for(label: str):
    return next(
        ma for model, ma in admin.site._registry.items() if model._meta.label_lower == label
    )


def _request(user, data=None):
    request = RequestFactory().post("/admin/", data or {})
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


# --- completeness: nothing escapes the walk ------------------------------------------------


def test_every_admin_action_has_a_rule():
    found = set()
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in ("django_celery_beat", "axes"):
            continue  # their own actions: see the next two tests
        for action in model_admin.actions or ():
            name = action if isinstance(action, str) else action.__name__
            found.add((model._meta.label_lower, name))
    assert found == set(ADMIN_ACTIONS)
    assert set(ADMIN_ACTIONS.values()) <= set(RULES)


def test_periodic_task_actions_are_only_for_roles_that_may_change_them():
    """django-celery-beat's actions (run, enable, disable, toggle) declare no permission:
    whoever sees the periodic tasks gets them. Only roles that may change them may see them."""
    from portal.roles import ROLE_PERMISSIONS

    for role, names in ROLE_PERMISSIONS.items():
        if "django_celery_beat.view_periodictask" in names:
            assert "django_celery_beat.change_periodictask" in names, role


def test_sign_in_lockouts_are_for_superusers_only():
    """django-axes' admin (access attempts, lockouts) is not in the rule table: no role
    holds its permissions, so only a superuser sees or clears lockouts."""
    from portal.roles import ROLE_PERMISSIONS

    for role, names in ROLE_PERMISSIONS.items():
        assert not any(name.startswith("axes.") for name in names), role


def test_every_api_write_action_has_a_rule():
    from escalations.api import views as escalation_views
    from incidents.api import views as incident_views

    found = set()
    for module in (incident_views, escalation_views):
        for name in dir(module):
            viewset = getattr(module, name)
            needed = getattr(viewset, "required_permissions", None)
            if isinstance(needed, dict) and name.endswith("ViewSet"):
                found |= {(name, action) for action in needed if action not in READS}
    walked = {(viewset, action) for _, viewset, action, _ in API_ACTIONS.values()}
    assert found == walked
    # The API asks what the rule asks (one table), so it refuses no earlier than the service.
    for _, viewset, action, rule in API_ACTIONS.values():
        module = incident_views if hasattr(incident_views, viewset) else escalation_views
        needed = getattr(module, viewset).required_permissions[action]
        assert set(needed) <= set(RULES[rule].permissions), (viewset, action)


# --- the admin --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_admin_offers_each_role_exactly_the_actions_its_rules_allow(world, role):
    user = world.users[role]
    request = RequestFactory().get("/admin/")
    request.user = user
    for (label, action), rule in ADMIN_ACTIONS.items():
        offered = action in _admin_for(label).get_actions(request)
        assert offered == expected(role, RULES[rule]), (role, label, action)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(("label", "action"), list(ADMIN_ACTIONS))
def test_running_an_admin_action_anyway_follows_the_rule(world, role, label, action):
    """The action is called directly (a forged POST past Django's offer): the service decides."""
    user = world.users[role]
    target, data = world.admin_target(label, action, user)
    model_admin = _admin_for(label)
    request = _request(user, {"apply": "1", **data})
    queryset = model_admin.model.objects.filter(pk=target.obj.pk)
    getattr(model_admin, action)(request, queryset)
    said = [(m.level, str(m)) for m in request._messages]
    if expected(role, RULES[ADMIN_ACTIONS[label, action]]):
        assert target.done(), (role, action, said)
    else:
        assert not target.done(), (role, action)
        assert any(level == messages.ERROR and "may not" in text for level, text in said), said


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("name", list(API_ACTIONS))
def test_each_api_action_follows_the_rule(world, role, name):
    prefix, _, _, rule = API_ACTIONS[name]
    user = world.users[role]
    target, method, path, body = world.api_target(name, user)
    answer = getattr(token_client(user), method)(f"/api/{prefix}/{path}", body, format="json")
    if expected(role, RULES[rule]):
        assert answer.status_code in (200, 201, 204), (role, name, answer.content)
        assert target.done(), (role, name)
    else:
        assert answer.status_code == 403, (role, name, answer.status_code, answer.content)
        assert not target.done(), (role, name)


def test_the_readme_shows_the_table_as_tested():
    from pathlib import Path

    from incidents.permissions import rule_table

    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert rule_table() in readme.read_text()
