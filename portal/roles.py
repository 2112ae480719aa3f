"""Roles are Django groups with permissions; this module is their one definition.

Migrations call `sync_roles` (with the historical app registry) whenever a role
gains permissions, so a fresh database and an upgraded one end up the same.
Permissions are only ever added: a site that granted more keeps it.
"""

from __future__ import annotations

SUPPORT_AGENT = "Support Agent"
TEAM_LEAD = "Team Lead"
ENGINEERING_MANAGER = "Engineering Manager"
DIRECTOR = "Director"
GOVERNANCE_LIAISON = "Governance Liaison"
EXECUTIVE = "Executive"
SECURITY = "Security"
# Seed 000 "Customer-Facing Incident": product and customer success hear about
# it (named as in escalations.rules.spec.TriggerSettings.notify_groups).
PRODUCT = "Product"
CUSTOMER_SUCCESS = "Customer Success"
# Seed 000: "Legal may be involved", "Coordinate with legal if data breach"; an incident
# with legal exposure notifies this group (TriggerSettings.notify_groups).
LEGAL = "Legal"
# Seed 003 "Team Lead -> Manager -> Director -> VP", seed 004 Sev 1 "VP-customer-support
# notified": the vice president above the directors, below the executive team.
VP = "VP"

ALL_ROLES = (
    SUPPORT_AGENT,
    TEAM_LEAD,
    ENGINEERING_MANAGER,
    DIRECTOR,
    GOVERNANCE_LIAISON,
    EXECUTIVE,
    SECURITY,
    PRODUCT,
    CUSTOMER_SUCCESS,
    LEGAL,
    VP,
)

# Roles whose members work in the Django admin (the demo gives them is_staff).
ADMIN_ROLES = (TEAM_LEAD, ENGINEERING_MANAGER, DIRECTOR, GOVERNANCE_LIAISON, EXECUTIVE, VP)

# Seed 000 "limited distribution": security incidents are seen by Security,
# managers and up, and whoever is assigned. Enforced in incidents.selectors.
VIEW_SECURITY = "incidents.view_security_incident"
# Seed 000 "Coordinate with legal if data breach": a security incident with data loss is
# also seen by Legal (incidents.selectors.visibility_q, Incident.is_data_breach).
VIEW_DATA_BREACH = "incidents.view_data_breach"

_WORK_ON_INCIDENTS = [
    "incidents.view_incident",
    "incidents.add_incident",
    "incidents.change_incident",
    "incidents.view_incidentevent",
    "incidents.view_account",
    "incidents.view_component",
    "incidents.view_channel",
    "incidents.view_category",
]
# The public status page (seed 002): who publishes incidents, their public title and updates.
PUBLISH_STATUS_PAGE = "incidents.publish_status_page"
_READ_INCIDENTS = [
    "incidents.view_incident",
    "incidents.view_incidentevent",
    "incidents.view_account",
    "incidents.view_component",
    "incidents.view_channel",
    "incidents.view_category",
]
_MANAGE_CATALOGUE = [
    f"incidents.{action}_{model}"
    for model in ("account", "component", "channel", "category")
    for action in ("add", "change")
]
_MANAGE_SCHEDULES = [
    f"django_celery_beat.{action}_{model}"
    for model in ("periodictask", "intervalschedule", "crontabschedule")
    for action in ("view", "change")
]

_POLICY_MODELS = ("policy", "level", "slatarget", "threshold", "severityoverride", "calendar")
_READ_POLICIES = [
    *(f"escalations.view_{model}" for model in _POLICY_MODELS),
    "escalations.view_thresholdfiring",
]
_MANAGE_POLICIES = [
    f"escalations.{action}_{model}"
    for model in _POLICY_MODELS
    for action in ("add", "change", "delete")
]
_LEAD_ESCALATIONS = [
    "escalations.view_escalation",
    "escalations.view_triggerfiring",
    "escalations.record_decision",
    "notifications.view_notification",
    "notifications.view_contact",
    "notifications.view_inboundmessage",
    "notifications.change_inboundmessage",
]
# Post-incident reviews, action items, war rooms, vendor cases (escalations app).
_FOLLOW_UP_MODELS = (
    "postincidentreview",
    "actionitem",
    "similarincident",
    "warroom",
    "warroomassignment",
    "warroomhandover",
    "vendorcase",
    "regulatoryreport",
)
_READ_FOLLOW_UP = [f"escalations.view_{model}" for model in _FOLLOW_UP_MODELS]
_MANAGE_FOLLOW_UP = [
    *_READ_FOLLOW_UP,
    *(
        f"escalations.change_{model}"
        for model in ("postincidentreview", "actionitem", "warroom", "vendorcase")
    ),
    "escalations.publish_review",
]
_DIRECTORY = [
    f"notifications.{action}_{model}"
    for model in ("contact", "deliverysettings", "inboundmessage")
    for action in ("view", "add", "change")
]
# Alert sources (Alertmanager, Grafana, Events API v2): who may add, revoke and read them.
_MANAGE_INTEGRATIONS = [
    *(f"incidents.{action}_integration" for action in ("view", "add", "change")),
    "incidents.view_alertdedup",
]
# On-call schedules (issue 18): team leads and managers keep them; anyone signed in reads
# who is on call (the API asks for no permission to read).
_MANAGE_ONCALL = [
    *(f"escalations.{action}_oncallschedule" for action in ("view", "add", "change")),
    *(f"escalations.{action}_oncalloverride" for action in ("view", "add", "delete")),
    # people's cover requests, read-only in the admin: they change only by their people
    "escalations.view_oncalloverriderequest",
]
# Review queues, metrics, weekly reports and policy simulation (all read-only):
# team leads, managers and up. Security sees the queues for its own tab.
_REVIEW = [
    "escalations.view_review_queues",
    "escalations.view_metrics",
    "escalations.simulate_policy",
]
_REPORT_SUBSCRIPTIONS = [
    f"notifications.{action}_reportsubscription" for action in ("view", "add", "change", "delete")
]
# Seed 002 "Regulatory Reporting: Report to regulatory bodies if required": Legal and the
# managers mark an incident as needing one and record it filed.
_REGULATORY_REPORTS = ["escalations.file_regulatory_report"]
_MANAGERS = [
    *_WORK_ON_INCIDENTS,
    *_REGULATORY_REPORTS,
    *_REVIEW,
    *_REPORT_SUBSCRIPTIONS,
    *_MANAGE_INTEGRATIONS,
    *_DIRECTORY,
    *_LEAD_ESCALATIONS,
    "escalations.escalate_as_management",
    "notifications.change_notification",
    *_MANAGE_CATALOGUE,
    *_MANAGE_SCHEDULES,
    *_READ_POLICIES,
    *_MANAGE_POLICIES,
    *_MANAGE_FOLLOW_UP,
    *_MANAGE_ONCALL,
    PUBLISH_STATUS_PAGE,
    VIEW_SECURITY,
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT_AGENT: _WORK_ON_INCIDENTS,
    TEAM_LEAD: [
        *_WORK_ON_INCIDENTS,
        *_READ_POLICIES,
        *_LEAD_ESCALATIONS,
        *_REVIEW,
        *_MANAGE_FOLLOW_UP,
        *_MANAGE_ONCALL,
        PUBLISH_STATUS_PAGE,
    ],
    ENGINEERING_MANAGER: _MANAGERS,
    DIRECTOR: _MANAGERS,
    GOVERNANCE_LIAISON: [
        *_READ_INCIDENTS,
        *_READ_POLICIES,
        *_LEAD_ESCALATIONS,
        *_REVIEW,
        *_READ_FOLLOW_UP,
        "escalations.publish_review",
        "escalations.escalate_as_management",
        VIEW_SECURITY,
    ],
    EXECUTIVE: [
        *_READ_INCIDENTS,
        *_READ_POLICIES,
        *_LEAD_ESCALATIONS,
        *_REVIEW,
        *_READ_FOLLOW_UP,
        VIEW_SECURITY,
    ],
    SECURITY: [*_WORK_ON_INCIDENTS, VIEW_SECURITY, "escalations.view_review_queues"],
    # Informed, not working the incident: they follow it and talk to customers.
    PRODUCT: _READ_INCIDENTS,
    CUSTOMER_SUCCESS: _READ_INCIDENTS,
    # Informed of legal exposure, compliance violations and data breaches; reads incidents
    # and reviews. Security incidents keep their limited distribution (seed 000), except
    # those with data loss: "Coordinate with legal if data breach".
    LEGAL: [*_READ_INCIDENTS, *_READ_FOLLOW_UP, *_REGULATORY_REPORTS, VIEW_DATA_BREACH],
    # Told of Sev 1 (seed 004) and the last rung of the management chain (seed 003):
    # reads like the executive team.
    VP: [
        *_READ_INCIDENTS,
        *_READ_POLICIES,
        *_LEAD_ESCALATIONS,
        *_REVIEW,
        *_READ_FOLLOW_UP,
        VIEW_SECURITY,
    ],
}


def sync_roles(apps, schema_editor=None) -> None:
    """Create the role groups and grant them their permissions (idempotent).

    `apps` is a migration's historical registry or `django.apps.apps`.
    Permissions of models not yet in that registry are skipped; the migration
    that adds such a model runs this again.
    """
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after `migrate` finishes; create them now.
    for app_config in apps.get_app_configs():
        had_models_module = getattr(app_config, "models_module", None)
        app_config.models_module = had_models_module or True  # create_permissions skips None
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = had_models_module

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.add(*wanted)


def user_roles(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
