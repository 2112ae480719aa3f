"""Objects in the state each action needs, built by the system (actor None, never
refused), for the role x action walk of tests/portal/test_permission_rules.py.

Each builder returns the object the action is run on and a check that tells
whether the action took effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from escalations.engine import services as engine
from escalations.followup import regulatory, reviews, vendors, war_room
from escalations.models import (
    ActionItem,
    Escalation,
    Policy,
    PostIncidentReview,
    RegulatoryReport,
    VendorCase,
)
from escalations.policies.services import (
    policy_activate,
    policy_create_from_spec,
    policy_fork,
    policy_spec,
)
from escalations.rules.handoff import CHECKLIST
from incidents import alerts, services
from incidents.models import Channel, Incident, Integration
from notifications.models import InboundMessage, Notification
from portal.roles import ALL_ROLES, ROLE_PERMISSIONS
from tests.escalations.conftest import simple_spec
from tests.factories import AccountFactory, make_incident, oncall_spec

COMPLETE = {
    "customers_impacted": 3,
    "business_impact": "Checkout slow",
    "root_cause_what": "Pool exhausted",
    "root_cause_why": "A leak",
    "root_cause_not_caught": "No load test",
    "contributing_factors": ["High threshold"],
    "went_well": ["Fast detection"],
    "went_poorly": ["Slow rollback"],
    "prevention_confidence": "high",
}


def expected(role: str, rule) -> bool:
    """What the rule table says, from the role's permission list (not the code under test)."""
    return set(rule.permissions) <= set(ROLE_PERMISSIONS[role])


def role_slug(role: str) -> str:
    return role.lower().replace(" ", "_")


def person(username: str, role: str, **fields):
    """A user in a role, without a password (hashing one per user would dominate the walk)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create(
        username=username, email=f"{username}@example.com", working_hours="24/7", **fields
    )
    user.groups.add(Group.objects.get(name=role))
    return user


@dataclass
class Target:
    obj: object
    done: Callable[[], bool]
    extra: dict = field(default_factory=dict)


class World:
    """A default policy, an owner for action items, and one staff user per role."""

    def __init__(self):
        self.policy = policy_create_from_spec(
            spec=simple_spec(), name="standard", make_default=True
        )
        self.owner = person("owner", "Support Agent")
        self.other = person("other", "Support Agent")
        self.users = {role: person(role_slug(role), role, is_staff=True) for role in ALL_ROLES}
        # What L2 asks for in a handoff note (the spec's levels).
        self.note = dict.fromkeys(policy_spec(self.policy).level(2).handoff_fields, "See timeline")

    # --- incidents in a state ------------------------------------------------------------

    def incident(self, **fields) -> Incident:
        return make_incident(**fields)

    def acknowledged(self, **fields) -> Incident:
        incident = self.incident(**fields)
        services.incident_acknowledge(incident=incident, actor=None)
        return Incident.objects.get(pk=incident.pk)

    def resolved(self, **fields) -> Incident:
        incident = self.acknowledged(**fields)
        services.incident_change_status(
            incident=incident, status="resolved", actor=None, note="Fixed"
        )
        return Incident.objects.get(pk=incident.pk)

    def escalated(self) -> tuple[Incident, Escalation]:
        incident = self.acknowledged()
        escalation = engine.incident_escalate(
            incident=incident,
            to_level=2,
            actor=None,
            reason="Needs specialists",
            category="expertise",
            note=self.note,
            checklist=list(CHECKLIST),
        )
        return Incident.objects.get(pk=incident.pk), escalation

    def events(self, incident: Incident) -> int:
        return incident.events.count()

    def with_war_room(self) -> Incident:
        incident = self.acknowledged(severity="P0")
        war_room.war_room_activate(
            incident=incident, actor=None, reason="sev1", commander=self.owner
        )
        return incident

    def review(self, *, complete: bool = True, status: str = "draft") -> PostIncidentReview:
        incident = self.resolved()
        review = reviews.review_create(incident=incident, actor=None)
        if complete:
            reviews.review_update(review=review, actor=None, changes=COMPLETE)
            self.item(review)
        if status == "in_review":
            reviews.review_submit(review=review, actor=None)
        return PostIncidentReview.objects.get(pk=review.pk)

    def item(self, review: PostIncidentReview) -> ActionItem:
        return reviews.action_item_add(
            review=review,
            actor=None,
            title="Add a load test",
            owner=self.owner,
            due_date=date.today() + timedelta(days=7),
        )

    # --- admin actions: (model label, action) -> (rule, target, POST data) -------------------

    def admin_target(self, label: str, action: str, user) -> tuple[Target, dict]:
        return getattr(self, f"admin_{label.replace('.', '_')}_{action}")(user)

    def admin_incidents_incident_acknowledge(self, user):
        i = self.incident()
        return Target(i, lambda: Incident.objects.get(pk=i.pk).status == "acknowledged"), {}

    def admin_incidents_incident_assign_to_me(self, user):
        i = self.incident()
        return Target(i, lambda: Incident.objects.get(pk=i.pk).assignee_id == user.pk), {}

    def admin_incidents_incident_assign(self, user):
        i = self.incident()
        done = lambda: Incident.objects.get(pk=i.pk).assignee_id == self.other.pk  # noqa: E731
        return Target(i, done), {"assignee": self.other.pk}

    def admin_incidents_incident_change_status(self, user):
        i = self.acknowledged()
        done = lambda: Incident.objects.get(pk=i.pk).status == "investigating"  # noqa: E731
        return Target(i, done), {"status": "investigating", "note": "Looking"}

    def admin_incidents_incident_change_severity(self, user):
        i = self.incident(severity="P2")
        done = lambda: Incident.objects.get(pk=i.pk).severity == "P3"  # noqa: E731
        return Target(i, done), {"severity": "P3", "reason": "Fewer users"}

    def _event_added(self, user, data):
        i = self.incident()
        before = self.events(i)
        return Target(i, lambda: self.events(i) > before), data

    def admin_incidents_incident_comment(self, user):
        return self._event_added(user, {"body": "A note"})

    def admin_incidents_incident_post_update(self, user):
        return self._event_added(user, {"body": "We are on it"})

    def admin_incidents_incident_reopen(self, user):
        i = self.resolved()
        done = lambda: Incident.objects.get(pk=i.pk).is_open  # noqa: E731
        return Target(i, done), {"reason": "It is back"}

    def admin_incidents_incident_close_resolved(self, user):
        i = self.resolved()
        return Target(i, lambda: Incident.objects.get(pk=i.pk).status == "closed"), {}

    def admin_incidents_incident_escalate(self, user):
        i = self.acknowledged()
        data = {"to_level": 2, "category": "expertise", "reason": "Specialists"}
        data.update({f"check_{key}": "on" for key in CHECKLIST})
        data.update({f"note_{key}": value for key, value in self.note.items()})
        return Target(i, lambda: Incident.objects.get(pk=i.pk).current_level == 2), data

    def admin_incidents_incident_de_escalate(self, user):
        i, _ = self.escalated()
        data = {"to_level": 1, "reason": "Calmer", "resolution_summary": "Fixed upstream"}
        return Target(i, lambda: Incident.objects.get(pk=i.pk).current_level == 1), data

    def _integration(self) -> Integration:
        Channel.objects.get_or_create(code="MONITORING", defaults={"name": "Monitoring"})
        return alerts.integration_create(kind="alertmanager", name="Prometheus").integration

    # --- the public status page (seed 002) ---------------------------------------------------

    def published(self) -> Incident:
        incident = self.incident()
        services.status_page_publish(
            incident=incident, actor=None, public_title="Slow checkout", body="Looking"
        )
        return Incident.objects.get(pk=incident.pk)

    def _public(self, incident, field, value):
        return lambda: getattr(Incident.objects.get(pk=incident.pk), field) == value

    def admin_incidents_incident_status_page_publish(self, user):
        i = self.incident()
        data = {"public_title": "Slow checkout", "state": "investigating", "body": "Looking"}
        return Target(i, lambda: Incident.objects.get(pk=i.pk).status_page_published_at), data

    def admin_incidents_incident_status_page_update(self, user):
        i = self.published()
        data = {"state": "monitoring", "body": "A fix is out"}
        return Target(i, self._public(i, "status_page_state", "monitoring")), data

    def admin_incidents_incident_status_page_set_title(self, user):
        i = self.published()
        data = {"public_title": "Slow sign-in"}
        return Target(i, self._public(i, "status_page_title", "Slow sign-in")), data

    def admin_incidents_incident_status_page_withdraw(self, user):
        i = self.published()
        return Target(i, self._public(i, "status_page_published_at", None)), {"reason": "Wrong"}

    def admin_incidents_integration_rotate_secret(self, user):
        integration = self._integration()
        before = integration.token_hash
        done = lambda: Integration.objects.get(pk=integration.pk).token_hash != before  # noqa: E731
        return Target(integration, done), {}

    def admin_incidents_integration_revoke(self, user):
        integration = self._integration()
        return Target(
            integration, lambda: not Integration.objects.get(pk=integration.pk).is_active
        ), {}

    def admin_escalations_policy_activate(self, user):
        draft = policy_fork(policy=self.policy)
        draft.levels.update(contacts={"email": "oncall@example.com"})  # someone hears it
        return Target(draft, lambda: Policy.objects.get(pk=draft.pk).status == "active"), {}

    def admin_escalations_policy_make_default(self, user):
        other = policy_create_from_spec(spec=simple_spec(), name="other")
        return Target(other, lambda: Policy.objects.get(pk=other.pk).is_default), {}

    def admin_escalations_policy_new_version(self, user):
        before = Policy.objects.count()
        return Target(self.policy, lambda: Policy.objects.count() > before), {}

    def admin_escalations_policy_move_open_incidents(self, user):
        i = self.incident()
        newer = policy_fork(policy=self.policy)
        newer.levels.update(contacts={"email": "oncall@example.com"})  # someone hears it
        policy_activate(policy=newer)
        done = lambda: Incident.objects.get(pk=i.pk).policy_id == newer.pk  # noqa: E731
        return Target(newer, done), {}

    def admin_escalations_escalation_acknowledge(self, user):
        _, e = self.escalated()
        done = lambda: Escalation.objects.get(pk=e.pk).acknowledged_at is not None  # noqa: E731
        return Target(e, done), {}

    def admin_escalations_escalation_decide(self, user):
        _, e = self.escalated()
        done = lambda: Escalation.objects.get(pk=e.pk).decision_at is not None  # noqa: E731
        return Target(e, done), {"decision": "Roll back"}

    def admin_escalations_postincidentreview_submit(self, user):
        r = self.review()
        done = lambda: PostIncidentReview.objects.get(pk=r.pk).status == "in_review"  # noqa: E731
        return Target(r, done), {}

    def admin_escalations_postincidentreview_publish(self, user):
        r = self.review(status="in_review")
        done = lambda: PostIncidentReview.objects.get(pk=r.pk).status == "published"  # noqa: E731
        return Target(r, done), {}

    def admin_escalations_actionitem_mark_in_progress(self, user):
        item = self.item(self.review(complete=False))
        done = lambda: ActionItem.objects.get(pk=item.pk).status == "in_progress"  # noqa: E731
        return Target(item, done), {}

    def admin_escalations_actionitem_mark_done(self, user):
        item = self.item(self.review(complete=False))
        return Target(item, lambda: ActionItem.objects.get(pk=item.pk).status == "done"), {}

    def admin_escalations_warroom_stand_down(self, user):
        room = war_room.active_war_room(self.with_war_room())
        done = lambda: type(room).objects.get(pk=room.pk).closed_at is not None  # noqa: E731
        return Target(room, done), {}

    def admin_escalations_vendorcase_close_cases(self, user):
        case = vendors.vendor_case_open(
            incident=self.acknowledged(),
            actor=None,
            vendor="GCP",
            case_id="42",
            severity="P2",
            owner=self.owner,
        )
        return Target(case, lambda: VendorCase.objects.get(pk=case.pk).status == "closed"), {}

    def admin_escalations_regulatoryreport_record_filed(self, user):
        report = regulatory.regulatory_report_require(
            incident=self.acknowledged(), actor=None, reason="Personal data breach"
        )
        done = lambda: RegulatoryReport.objects.get(pk=report.pk).filed_at is not None  # noqa: E731
        return Target(report, done), {}

    def admin_notifications_notification_retry(self, user):
        row = Notification.objects.create(
            incident=self.incident(),
            kind="sla_warning",
            channel="email",
            recipient="someone@example.com",
            dedup_key=f"failed-{user.pk}",
            status="failed",
            last_error="550",
            next_attempt_at=timezone.now(),
        )
        return Target(row, lambda: Notification.objects.get(pk=row.pk).status != "failed"), {}

    def admin_notifications_inboundmessage_attach_to_incident(self, user):
        incident = self.incident(account=AccountFactory())
        mail = InboundMessage.objects.create(
            received_at=timezone.now(),
            from_email="customer@example.com",
            subject="Still broken",
            text="Please help",
            status="unmatched",
        )
        done = lambda: InboundMessage.objects.get(pk=mail.pk).status == "attached"  # noqa: E731
        return Target(mail, done), {"reference": incident.reference}

    # --- API actions: name -> (rule, method, path, body, target) ------------------------------

    def api_target(self, name: str, user) -> tuple[Target, str, str, dict]:
        return getattr(self, f"api_{name}")(user)

    def api_incident_create(self, user):
        Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
        before = Incident.objects.count()
        body = {"title": "New one", "severity": "P3", "channel": "RUNTIME"}
        return Target(None, lambda: Incident.objects.count() > before), "post", "", body

    def _on_incident(self, incident, path, body, done):
        return Target(incident, done), "post", f"{incident.reference}/{path}/", body

    def api_incident_update(self, user):
        i = self.incident()
        done = lambda: Incident.objects.get(pk=i.pk).title == "Renamed"  # noqa: E731
        return Target(i, done), "patch", f"{i.reference}/", {"title": "Renamed"}

    def _status_is(self, incident, status):
        return lambda: Incident.objects.get(pk=incident.pk).status == status

    def api_incident_acknowledge(self, user):
        i = self.incident()
        return self._on_incident(i, "acknowledge", {}, self._status_is(i, "acknowledged"))

    def api_incident_comment(self, user):
        i = self.incident()
        before = self.events(i)
        return self._on_incident(i, "comment", {"body": "x"}, lambda: self.events(i) > before)

    def api_incident_public_update(self, user):
        i = self.incident()
        before = self.events(i)
        done = lambda: self.events(i) > before  # noqa: E731
        return self._on_incident(i, "public-update", {"body": "x"}, done)

    def api_incident_resolve(self, user):
        i = self.acknowledged()
        return self._on_incident(i, "resolve", {"note": "Fixed"}, self._status_is(i, "resolved"))

    def api_incident_pause(self, user):
        i = self.acknowledged()
        done = self._status_is(i, "waiting_on_customer")
        return self._on_incident(i, "pause", {"waiting_on": "customer"}, done)

    def api_incident_resume(self, user):
        i = self.acknowledged()
        services.incident_change_status(incident=i, status="waiting_on_customer", actor=None)
        return self._on_incident(i, "resume", {}, self._status_is(i, "investigating"))

    def api_incident_reopen(self, user):
        i = self.resolved()
        done = lambda: Incident.objects.get(pk=i.pk).is_open  # noqa: E731
        return self._on_incident(i, "reopen", {"reason": "Back"}, done)

    def api_incident_status(self, user):
        i = self.acknowledged()
        body = {"status": "investigating", "note": ""}
        return self._on_incident(i, "status", body, self._status_is(i, "investigating"))

    def api_incident_assign(self, user):
        i = self.incident()
        done = lambda: Incident.objects.get(pk=i.pk).assignee_id == self.other.pk  # noqa: E731
        return self._on_incident(i, "assign", {"assignee": self.other.username}, done)

    def api_incident_severity(self, user):
        i = self.incident(severity="P2")
        done = lambda: Incident.objects.get(pk=i.pk).severity == "P3"  # noqa: E731
        return self._on_incident(i, "severity", {"severity": "P3", "reason": "Fewer"}, done)

    def api_status_page_publish(self, user):
        i = self.incident()
        body = {"public_title": "Slow checkout", "state": "identified", "body": "Found it"}
        return self._on_incident(
            i, "status-page/publish", body, self._public(i, "status_page_state", "identified")
        )

    def api_status_page_title(self, user):
        i = self.published()
        done = self._public(i, "status_page_title", "Slow sign-in")
        return self._on_incident(i, "status-page/title", {"public_title": "Slow sign-in"}, done)

    def api_status_page_update(self, user):
        i = self.published()
        body = {"state": "resolved", "body": "Fixed"}
        done = self._public(i, "status_page_state", "resolved")
        return self._on_incident(i, "status-page/update", body, done)

    def api_status_page_withdraw(self, user):
        i = self.published()
        done = self._public(i, "status_page_published_at", None)
        return self._on_incident(i, "status-page/withdraw", {"reason": "Wrong"}, done)

    def api_escalate(self, user):
        i = self.acknowledged()
        body = {
            "to_level": 2,
            "category": "expertise",
            "reason": "Specialists",
            "note": self.note,
            "checklist": list(CHECKLIST),
        }
        done = lambda: Incident.objects.get(pk=i.pk).current_level == 2  # noqa: E731
        return self._on_incident(i, "escalate", body, done)

    def api_escalate_as_management(self, user):
        target, method, path, body = self.api_escalate(user)
        return target, method, path, {**body, "category": "strategic"}

    def api_regulatory_report_require(self, user):
        i = self.acknowledged()
        done = lambda: RegulatoryReport.objects.filter(incident=i).exists()  # noqa: E731
        return self._on_incident(i, "regulatory-report/require", {"reason": "Data breach"}, done)

    def api_regulatory_report_file(self, user):
        i = self.acknowledged()
        report = regulatory.regulatory_report_require(incident=i, actor=None, reason="Breach")
        done = lambda: RegulatoryReport.objects.get(pk=report.pk).filed_at is not None  # noqa: E731
        return self._on_incident(i, "regulatory-report/file", {"reference": "ICO-1"}, done)

    def api_acknowledge_handoff(self, user):
        i, e = self.escalated()
        done = lambda: Escalation.objects.get(pk=e.pk).acknowledged_at is not None  # noqa: E731
        return self._on_incident(i, "acknowledge-handoff", {}, done)

    def api_de_escalate(self, user):
        i, _ = self.escalated()
        body = {"to_level": 1, "reason": "Calmer", "resolution_summary": "Fixed"}
        done = lambda: Incident.objects.get(pk=i.pk).current_level == 1  # noqa: E731
        return self._on_incident(i, "de-escalate", body, done)

    def api_manager_request(self, user):
        i = self.acknowledged(account=AccountFactory(tier="enterprise"))
        done = lambda: Incident.objects.get(pk=i.pk).escalations.exists()  # noqa: E731
        return self._on_incident(i, "manager-request", {"note": "Wants a manager"}, done)

    def api_decide(self, user):
        _, e = self.escalated()
        done = lambda: Escalation.objects.get(pk=e.pk).decision_at is not None  # noqa: E731
        return Target(e, done), "post", f"{e.pk}/decide/", {"decision": "Roll back"}

    def api_review_create(self, user):
        i = self.resolved()
        done = lambda: PostIncidentReview.objects.filter(incident=i).exists()  # noqa: E731
        return Target(i, done), "post", "", {"incident": i.reference}

    def _review_path(self, review, action=""):
        return f"{review.incident.reference}/" + (f"{action}/" if action else "")

    def api_review_update(self, user):
        r = self.review(complete=False)
        done = lambda: PostIncidentReview.objects.get(pk=r.pk).business_impact == "Big"  # noqa: E731
        return Target(r, done), "patch", self._review_path(r), {"business_impact": "Big"}

    def _review_status(self, review, status):
        return lambda: PostIncidentReview.objects.get(pk=review.pk).status == status

    def api_review_submit(self, user):
        r = self.review()
        done = self._review_status(r, "in_review")
        return Target(r, done), "post", self._review_path(r, "submit"), {}

    def api_review_publish(self, user):
        r = self.review(status="in_review")
        done = self._review_status(r, "published")
        return Target(r, done), "post", self._review_path(r, "publish"), {}

    def api_review_return(self, user):
        r = self.review(status="in_review")
        done = self._review_status(r, "draft")
        return Target(r, done), "post", self._review_path(r, "return"), {"reason": "More"}

    def api_action_item_create(self, user):
        r = self.review(complete=False)
        body = {
            "review": r.pk,
            "title": "Alerting",
            "owner": self.owner.username,
            "due_date": str(date.today() + timedelta(days=7)),
        }
        return Target(r, lambda: r.action_items.exists()), "post", "", body

    def api_action_item_update(self, user):
        item = self.item(self.review(complete=False))
        done = lambda: ActionItem.objects.get(pk=item.pk).status == "in_progress"  # noqa: E731
        return Target(item, done), "patch", f"{item.pk}/", {"status": "in_progress"}

    def api_action_item_close(self, user):
        item = self.item(self.review(complete=False))
        done = lambda: ActionItem.objects.get(pk=item.pk).status == "done"  # noqa: E731
        return Target(item, done), "post", f"{item.pk}/close/", {"status": "done"}

    # --- on-call schedules -----------------------------------------------------------------

    def _schedule(self):
        from tests.factories import make_schedule

        return make_schedule(spec=oncall_spec((self.owner.username,)))

    def api_schedule_create(self, user):
        from escalations.models import OnCallSchedule

        body = {"name": "New rota", "spec": oncall_spec((self.owner.username,))}
        done = lambda: OnCallSchedule.objects.filter(name="New rota").exists()  # noqa: E731
        return Target(None, done), "post", "", body

    def _schedule_renamed(self, method):
        from escalations.models import OnCallSchedule

        schedule = self._schedule()
        body = {"name": "Renamed", "spec": oncall_spec((self.owner.username,))}
        done = lambda: OnCallSchedule.objects.get(pk=schedule.pk).name == "Renamed"  # noqa: E731
        return Target(schedule, done), method, f"{schedule.pk}/", body

    def api_schedule_update(self, user):
        return self._schedule_renamed("put")

    def api_schedule_partial_update(self, user):
        return self._schedule_renamed("patch")

    # --- overrides, cover requests, taking the shift (rules with a relation: the world
    # puts `user` where the relation holds, so every role holding the permissions may act)

    def _schedule_with(self, user, name: str, *, on_call):
        """A schedule with the owner and `user` in its rotation, `on_call` on call now."""
        from escalations.schedules.services import override_add, schedule_create

        spec = oncall_spec((self.owner.username, user.username), timezone="UTC")
        schedule = schedule_create(actor=None, name=name, spec=spec)
        now = timezone.now()
        override_add(
            actor=None,
            schedule=schedule,
            person=on_call,
            start=now - timedelta(hours=1),
            end=now + timedelta(hours=3),
        )
        return schedule

    def _cover_request(self, schedule, *, asker, asked):
        from escalations.schedules.services import cover_request

        start = timezone.now() + timedelta(minutes=5)
        return cover_request(
            actor=asker,
            schedule=schedule,
            to_person=asked,
            start=start,
            end=start + timedelta(hours=1),
        )

    def _cover_answered(self, schedule, request, action, status):
        from escalations.models import OnCallOverrideRequest

        def done():
            return OnCallOverrideRequest.objects.get(pk=request.pk).status == status

        path = f"{schedule.pk}/override-requests/{request.pk}/{action}/"
        return Target(request, done), "post", path, {}

    def api_schedule_take(self, user):
        from escalations.models import OnCallOverride

        schedule = self._schedule_with(user, "Take", on_call=self.owner)
        done = lambda: OnCallOverride.objects.filter(reason="taken", person=user).exists()  # noqa: E731
        return Target(schedule, done), "post", f"{schedule.pk}/take/", {"hours": 1}

    def api_override_create(self, user):
        from escalations.models import OnCallOverride

        schedule = self._schedule()
        body = {
            "person": self.other.username,
            "start": "2026-01-07T10:00:00Z",
            "end": "2026-01-07T14:00:00Z",
        }
        done = lambda: OnCallOverride.objects.filter(person=self.other).exists()  # noqa: E731
        return Target(schedule, done), "post", f"{schedule.pk}/overrides/", body

    def api_override_destroy(self, user):
        from escalations.models import OnCallOverride
        from escalations.schedules.services import override_add

        schedule = self._schedule()
        row = override_add(
            actor=None,
            schedule=schedule,
            person=self.other,
            start=timezone.now(),
            end=timezone.now() + timedelta(hours=1),
        )
        done = lambda: not OnCallOverride.objects.filter(pk=row.pk).exists()  # noqa: E731
        return Target(row, done), "delete", f"{schedule.pk}/overrides/{row.pk}/", {}

    def api_cover_request(self, user):
        from escalations.models import OnCallOverrideRequest

        schedule = self._schedule_with(user, "Ask", on_call=user)
        start = timezone.now() + timedelta(minutes=5)
        body = {"to_person": self.owner.username, "start": start, "end": start + timedelta(hours=1)}
        done = lambda: OnCallOverrideRequest.objects.filter(from_person=user).exists()  # noqa: E731
        return Target(schedule, done), "post", f"{schedule.pk}/override-requests/", body

    def api_cover_accept(self, user):
        schedule = self._schedule_with(user, "Accept", on_call=self.owner)
        request = self._cover_request(schedule, asker=self.owner, asked=user)
        return self._cover_answered(schedule, request, "accept", "accepted")

    def api_cover_decline(self, user):
        schedule = self._schedule_with(user, "Decline", on_call=self.owner)
        request = self._cover_request(schedule, asker=self.owner, asked=user)
        return self._cover_answered(schedule, request, "decline", "declined")

    def api_cover_cancel(self, user):
        schedule = self._schedule_with(user, "Cancel", on_call=user)
        request = self._cover_request(schedule, asker=user, asked=self.owner)
        return self._cover_answered(schedule, request, "cancel", "cancelled")
