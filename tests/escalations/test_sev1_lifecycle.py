"""A Sev 1 incident's whole life through the web forms, with time moved forward:
war room, cadence reminders, vendor case, resolution, the review with action items,
reminders, publication and the exports (issue 6's "done when")."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
import yaml
from django.test import Client
from django.urls import reverse

from escalations.models import (
    ActionItem,
    PostIncidentReview,
    ReviewStatus,
    VendorCase,
    WarRoom,
)
from escalations.policies.services import policy_create_from_spec
from escalations.policies.workflow_yaml import load_workflow_file
from escalations.tasks import run_reminder_sweep
from incidents.models import EventKind, Incident
from notifications.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
M = timedelta(minutes=1)
H = timedelta(hours=1)
T0 = datetime(2026, 3, 2, 14, 23, tzinfo=UTC)
PRESET = Path(__file__).resolve().parents[2] / "escalations" / "workflows" / "p0-p3-matrix.yaml"


@pytest.fixture
def cast(roles, channel):
    policy_create_from_spec(spec=load_workflow_file(PRESET), name="p0-p3-matrix", make_default=True)
    return {
        "agent": UserFactory(username="sam", role="Support Agent", first_name="Sam"),
        "commander": UserFactory(username="olivia", role="Team Lead", first_name="Olivia"),
        "liaison": UserFactory(username="grace", role="Support Agent", first_name="Grace"),
        "sre": UserFactory(username="kenji", role="Support Agent", first_name="Kenji"),
        "manager": UserFactory(username="maria", role="Engineering Manager", first_name="Maria"),
    }


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def notices(kind, **filters):
    return list(
        Notification.objects.filter(kind=kind, **filters)
        .order_by("created_at", "id")
        .values_list("recipient", "subject")
    )


def ok(response, status=302):
    assert response.status_code == status, response.content.decode()[:3000]
    return response


def test_a_sev1_incident_runs_its_whole_life(cast, channel):
    agent, commander, liaison = cast["agent"], cast["commander"], cast["liaison"]
    sre, manager = cast["sre"], cast["manager"]
    web = {name: browser(user) for name, user in cast.items()}

    with time_machine.travel(T0, tick=False) as clock:
        # 14:23 - the first customer report
        ok(
            web["agent"].post(
                reverse("incidents:create"),
                {
                    "title": "Payment processing down for all customers",
                    "severity": "P0",
                    "channel": channel.pk,
                    "description": "No transactions completing.",
                    "is_production_outage": "on",
                    "users_affected": "5000",
                    "revenue_impact": "40000",
                    "assignee": agent.pk,
                },
            )
        )
        incident = Incident.objects.get()
        ref = incident.reference
        page = reverse("incidents:detail", args=[ref])

        # 14:25 - the commander takes the handoff (the P0 went straight to L4)
        clock.move_to(T0 + 2 * M)
        ok(web["commander"].post(reverse("escalations:action", args=[ref, "acknowledge"])))

        # 14:28 - war room: an empty form first, then the real one
        clock.move_to(T0 + 5 * M)
        bad = ok(
            web["commander"].post(
                reverse("escalations:war_room", args=[ref, "activate"]),
                {"reason": "sev1", "cadence_minutes": "2"},
            ),
            400,
        )
        assert bad.context["war_room_activate_form"].errors.keys() >= {
            "commander",
            "cadence_minutes",
        }
        ok(
            web["commander"].post(
                reverse("escalations:war_room", args=[ref, "activate"]),
                {
                    "reason": "sev1",
                    "commander": commander.pk,
                    "technical_lead": sre.pk,
                    "customer_liaison": liaison.pk,
                    "scribe": agent.pk,
                    "channel": "#inc-payments",
                },
            )
        )
        room = WarRoom.objects.get()
        assert room.cadence == 30 * M and room.update_due_at == T0 + 35 * M
        detail = web["commander"].get(page)
        assert b"#inc-payments" in detail.content and b"Log a commander decision" in detail.content

        # 14:58 - nobody has posted an update: the commander is reminded
        clock.move_to(T0 + 35 * M)
        run_reminder_sweep()
        assert notices("war_room_update_due") == [
            (commander.email, f"[STATUS UPDATE DUE] {ref} - {incident.title}")
        ]

        # 15:00 - the liaison posts; the cadence restarts from there
        clock.move_to(T0 + 37 * M)
        ok(
            web["liaison"].post(
                reverse("incidents:action", args=[ref, "update"]),
                {"body": "We are investigating failed payments; next update by 15:30 UTC."},
            )
        )
        room.refresh_from_db()
        assert room.update_due_at == T0 + 67 * M

        # 15:15 - the commander decides; the technical lead opens a vendor case
        clock.move_to(T0 + 52 * M)
        ok(
            web["sre"].post(
                reverse("escalations:war_room", args=[ref, "decide"]),
                {"decision": "Not the commander"},
            ),
            400,
        )
        ok(
            web["commander"].post(
                reverse("escalations:war_room", args=[ref, "decide"]),
                {"decision": "Roll back release 42 and raise the pool size."},
            )
        )
        ok(
            web["sre"].post(
                reverse("escalations:vendor", args=[ref, "open"]),
                {
                    "vendor": "AWS",
                    "case_id": "171234567800123",
                    "severity": "Production system down",
                    "owner": sre.pk,
                    "contact": "Dana (TAM)",
                    "next_update_expected_at": "2026-03-02T16:00",
                },
            )
        )
        case = VendorCase.objects.get()
        assert case.next_update_expected_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)

        # 15:30 - the update is due again; the vendor is late at 16:00
        clock.move_to(T0 + 67 * M)
        run_reminder_sweep()
        clock.move_to(T0 + 98 * M)
        run_reminder_sweep()
        assert len(notices("war_room_update_due")) == 3  # due at 15:30, still late at 16:00
        # The case's owner hears, and so does the incident's assignee (the commander
        # took the P0's handoff to L4, which made it theirs).
        overdue = f"[VENDOR UPDATE OVERDUE] AWS case 171234567800123 ({ref})"
        assert notices("vendor_update_overdue") == [
            (sre.email, overdue),
            (commander.email, overdue),
        ]

        # 18:05 - resolved: the war room stands down, the review opens, due in 48 hours
        clock.move_to(T0 + 3 * H + 42 * M)
        ok(
            web["agent"].post(
                reverse("incidents:action", args=[ref, "status"]),
                {"status": "resolved", "note": "Fix deployed; all customers confirmed restored."},
            )
        )
        room.refresh_from_db()
        assert room.closed_at is not None
        review = PostIncidentReview.objects.get()
        assert review.due_at == T0 + 3 * H + 42 * M + 48 * H
        assert "P0 incident" in review.required_reasons
        before = len(notices("war_room_update_due"))
        clock.move_to(T0 + 5 * H)
        run_reminder_sweep()
        assert len(notices("war_room_update_due")) == before  # reminders stopped

        # The review page: the timeline is drafted from the incident's events.
        review_url = reverse("escalations:pir", args=[ref])
        page_html = ok(web["agent"].get(review_url), 200).content.decode()
        assert "War room activated" in page_html and "Roll back release 42" in page_html

        # A bad timeline line is refused beside its field; nothing is saved.
        form = {
            "owner": agent.pk,
            "customers_impacted": "87",
            "business_impact": "$40,000 estimated revenue loss",
            "timeline": "14:23 - First customer report received\nsoon - rollback",
            "root_cause_what": "Database connection pool exhausted under load",
            "root_cause_why": "Recent code change introduced a connection leak",
            "root_cause_not_caught": "Load testing did not simulate peak concurrent users",
            "root_cause_key": "db-pool-exhaustion",
            "contributing_factors": "Monitoring alert threshold too high\nNo circuit breaker",
            "went_well": "Fast detection and escalation",
            "went_poorly": "Took 30 minutes to identify the root cause",
            "prevention_confidence": "high",
        }
        refused = ok(web["agent"].post(review_url, form), 400)
        assert refused.context["form"].errors["timeline"] == [
            "Line 2: start with a time like 14:23 or 2026-01-14 14:23, "
            "then ' - ' and what happened."
        ]
        review.refresh_from_db()
        assert review.customers_impacted is None
        form["timeline"] = (
            "2026-03-02 14:23 - First customer report received\n"
            "14:28 - War room activated\n"
            "14:52 - Root cause identified: DB connection pool exhaustion\n"
            "15:30 - Fix deployed to production\n"
            "18:05 - Monitoring confirmed stable"
        )
        ok(web["agent"].post(review_url, form))

        # Submitting without action items says so; then the items are added.
        refused = ok(
            web["agent"].post(reverse("escalations:pir_action", args=[ref, "submit"])), 400
        )
        assert refused.context["items_error"] == [
            "Add at least one action item with an owner and a due date."
        ]
        item_url = reverse("escalations:pir_action", args=[ref, "add-item"])
        bad_item = ok(web["agent"].post(item_url, {"title": "", "due_date": "2026-02-01"}), 400)
        assert set(bad_item.context["item_form"].errors) == {"title", "owner"}
        ok(
            web["agent"].post(
                item_url,
                {
                    "title": "Add connection pool monitoring",
                    "owner": sre.pk,
                    "due_date": "2026-03-09",
                },
            )
        )
        ok(
            web["agent"].post(
                item_url,
                {
                    "title": "Fix the connection leak",
                    "owner": agent.pk,
                    "due_date": "2026-03-05",
                    "is_permanent_fix": "on",
                },
            )
        )
        assert ActionItem.objects.count() == 2
        assert (sre.email, "[ACTION ITEM] Add connection pool monitoring (" + ref + ")") in notices(
            "action_item_reminder"
        )

        # The day before the deadline the owner hears about the review.
        clock.move_to(review.due_at - 12 * H)
        run_reminder_sweep()
        assert notices("pir_reminder", subject__startswith="[PIR DUE SOON]") == [
            (agent.email, f"[PIR DUE SOON] {ref} - {incident.title}")
        ]

        # Submitted; an agent may not publish; the manager does.
        ok(web["agent"].post(reverse("escalations:pir_action", args=[ref, "submit"])))
        assert (
            web["agent"].post(reverse("escalations:pir_action", args=[ref, "publish"])).status_code
            == 403
        )
        ok(web["manager"].post(reverse("escalations:pir_action", args=[ref, "publish"])))
        review.refresh_from_db()
        assert review.status == ReviewStatus.PUBLISHED and review.published_by == manager
        clock.move_to(review.due_at + H)
        run_reminder_sweep()
        assert not notices("pir_reminder", subject__startswith="[PIR OVERDUE]")

        # Action items are chased: two days before their due date, then when overdue.
        monitoring = ActionItem.objects.get(owner=sre)
        clock.move_to(monitoring.due_at - 2 * 24 * H)
        run_reminder_sweep()
        leak = ActionItem.objects.get(owner=agent)
        ok(
            web["agent"].post(
                reverse("escalations:item", args=[ref, leak.pk, "close"]),
                {f"close{leak.pk}-status": "done", f"close{leak.pk}-note": "Merged #4711"},
            )
        )
        leak.refresh_from_db()
        assert leak.closed_by == agent and leak.status == "done"
        clock.move_to(monitoring.due_at + H)
        run_reminder_sweep()
        subjects = [s for r, s in notices("action_item_reminder") if r == sre.email]
        assert subjects[1].startswith("[ACTION ITEM DUE 2026-03-09]")
        assert subjects[2].startswith("[ACTION ITEM OVERDUE]")

        # The exports, in seed 004's shape.
        exported = yaml.safe_load(
            ok(web["manager"].get(reverse("escalations:pir_yaml", args=[ref])), 200).content
        )["post_incident_review"]
        assert exported["incident_id"] == ref
        assert exported["severity"] == "Sev 1"
        assert exported["duration"] == "3 hours 42 minutes"
        assert exported["customers_impacted"] == 87
        assert exported["timeline"][0] == "14:23 - First customer report received"
        assert exported["root_cause"]["why_not_caught"].startswith("Load testing")
        assert exported["prevention_confidence"] == "High"
        assert "Fix the connection leak [Owner: Sam" in exported["action_items"][0]
        markdown = ok(web["manager"].get(reverse("escalations:pir_md", args=[ref])), 200)
        assert markdown["Content-Disposition"] == f'attachment; filename="{ref}-pir.md"'
        assert b"- [x] Fix the connection leak" in markdown.content

    kinds = set(incident.events.values_list("kind", flat=True))
    assert {
        EventKind.WAR_ROOM_ACTIVATED,
        EventKind.COMMANDER_DECISION,
        EventKind.VENDOR_CASE,
        EventKind.WAR_ROOM_CLOSED,
        EventKind.REVIEW,
        EventKind.ACTION_ITEM,
        EventKind.REVIEW_PUBLISHED,
    } <= kinds
