"""The weekly report email: Monday morning in each subscriber's zone, once per week."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from escalations.analytics.weekly_mail import weekly_reports_send
from escalations.tasks import send_weekly_reports
from incidents import services
from notifications.models import Notification, ReportSubscription
from tests.escalations.review_scenario import NOW, build_follow_up, build_world
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db

# NOW is Wednesday 2026-03-11 (week 2026-W11); the report goes out Monday 2026-03-16.
MONDAY_8_BERLIN = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)  # 08:00 CET


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        world = build_world()
        outage = make_incident(
            actor=world.agent,
            title="Payment processing outage",
            severity="P0",
            opened_at=NOW - timedelta(hours=2),
            now=NOW - timedelta(hours=2),
        )
        services.incident_acknowledge(
            incident=outage, actor=world.agent, now=NOW - timedelta(hours=2) + timedelta(minutes=3)
        )
        services.incident_change_status(
            incident=outage,
            status="resolved",
            actor=world.agent,
            note="Rolled back",
            now=NOW - timedelta(hours=2) + timedelta(hours=3, minutes=42),
        )
    return world


def subscribe(user, zone, *, since=NOW):
    subscription = ReportSubscription.objects.create(user=user, time_zone=zone)
    ReportSubscription.objects.filter(pk=subscription.pk).update(created_at=since)
    subscription.refresh_from_db()
    return subscription


def test_sent_once_on_monday_morning_in_the_subscribers_zone(world):
    subscribe(world.manager, "Europe/Berlin")
    assert weekly_reports_send(now=MONDAY_8_BERLIN - timedelta(minutes=1)) == 0
    assert weekly_reports_send(now=MONDAY_8_BERLIN) == 1
    assert weekly_reports_send(now=MONDAY_8_BERLIN + timedelta(minutes=15)) == 0
    assert weekly_reports_send(now=MONDAY_8_BERLIN + timedelta(days=3)) == 0
    [row] = Notification.objects.filter(kind="weekly_report")
    assert row.recipient == world.manager.email and row.channel == "email"
    assert row.dedup_key == f"weekly_report:{world.manager.pk}:2026-W11"
    assert row.incident_id is None


def test_each_zone_gets_its_own_monday(world):
    subscribe(world.manager, "Asia/Tokyo")  # Monday 08:00 JST is Sunday 23:00 UTC
    subscribe(world.lead, "America/New_York")  # Monday 08:00 EDT is 12:00 UTC
    sunday_night_utc = datetime(2026, 3, 15, 23, 0, tzinfo=UTC)
    assert weekly_reports_send(now=sunday_night_utc) == 1
    assert Notification.objects.get(kind="weekly_report").recipient == world.manager.email
    assert weekly_reports_send(now=datetime(2026, 3, 16, 11, 59, tzinfo=UTC)) == 0
    assert weekly_reports_send(now=datetime(2026, 3, 16, 12, 0, tzinfo=UTC)) == 1


def test_a_missed_monday_is_caught_up_later_that_week_only_once(world):
    subscribe(world.manager, "UTC")
    assert weekly_reports_send(now=datetime(2026, 3, 18, 10, 0, tzinfo=UTC)) == 1
    assert weekly_reports_send(now=datetime(2026, 3, 23, 8, 0, tzinfo=UTC)) == 1  # next week
    keys = set(Notification.objects.values_list("dedup_key", flat=True))
    assert {k for k in keys if k.startswith("weekly_report")} == {
        f"weekly_report:{world.manager.pk}:2026-W11",
        f"weekly_report:{world.manager.pk}:2026-W12",
    }


def test_subscribing_after_monday_morning_starts_next_week(world):
    subscribe(world.manager, "UTC", since=datetime(2026, 3, 17, 9, 0, tzinfo=UTC))
    assert weekly_reports_send(now=datetime(2026, 3, 17, 10, 0, tzinfo=UTC)) == 0
    assert weekly_reports_send(now=datetime(2026, 3, 23, 8, 0, tzinfo=UTC)) == 1


def test_inactive_subscriptions_and_users_without_email_get_nothing(world):
    subscription = subscribe(world.manager, "UTC")
    ReportSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
    nobody = UserFactory(username="noemail", role="Director", email="")
    subscribe(nobody, "UTC")
    assert weekly_reports_send(now=MONDAY_8_BERLIN + timedelta(hours=2)) == 0


def test_the_email_says_what_seed_004_asks(world):
    subscribe(world.manager, "UTC")
    weekly_reports_send(now=datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    row = Notification.objects.get(kind="weekly_report")
    assert row.subject == "Weekly escalation report 2026-W11: 7 incidents, 2 escalations"
    text = row.body_text
    assert "Sev 1: 1, Sev 2: 2, Sev 3: 4, Sev 4: 0" in text
    assert "Sev 1: Payment processing outage - resolved in 3h 42m" in text
    assert "Incidents: 7 this week vs 0 last week" in text
    assert "ACTION ITEMS\n  No open action items.\n" in text
    assert "  - Breached: 5\n" in text  # the queues at sending time: all five open ones
    assert "/reports/weekly/2026-W11/" in text
    assert "Payment processing outage" in row.body_html and "<table" in row.body_html


def test_the_email_lists_open_action_items_with_owners(world):
    with time_machine.travel(NOW, tick=False):
        f = build_follow_up(world)
    subscribe(world.manager, "UTC")
    weekly_reports_send(now=datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    row = Notification.objects.get(kind="weekly_report")
    text = row.body_text
    # Open when 2026-W11 ended: the runbook and the load test were done during it.
    assert (
        "ACTION ITEMS (3 open at the end of the week, 2 overdue)\n"
        f"  - Fix the connection leak [Owner: {world.agent}] due 2026-03-09 (overdue), "
        f"{f.late.reference}\n"
        f"  - Security follow-up (details in the portal) [Owner: {world.security}] due "
        f"2026-03-09 (overdue), {f.classified.reference}\n"
        f"  - Add a circuit breaker [Owner: {world.lead}] due 2026-03-20, "
        f"{f.unpublished.reference}\n"
    ) in text
    assert "Update the runbook" not in text and "Load-test peak concurrency" not in text
    # The queues as they stand on Monday: five unpublished reviews with a due time (the
    # follow-up world's four and the payment outage's), two items overdue.
    assert "  - PIRs due or overdue: 5\n" in text
    assert "  - Action items overdue: 2\n" in text
    html = row.body_html
    assert f"Add a circuit breaker [Owner: {world.lead}]" in html
    assert "Rotate the leaked keys" not in html + text  # security details stay in the portal


def test_working_hours_hold_the_email_until_the_subscriber_starts(world):
    world.manager.working_hours = {"mon": ["09:30-17:00"]}
    world.manager.time_zone = "UTC"
    world.manager.save()
    subscribe(world.manager, None)  # the user's own zone
    weekly_reports_send(now=datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    row = Notification.objects.get(kind="weekly_report")
    assert row.next_attempt_at == datetime(2026, 3, 16, 9, 30, tzinfo=UTC)


def test_beat_runs_the_task_every_15_minutes_and_it_is_safe_to_repeat(world):
    task = PeriodicTask.objects.get(name="Weekly report")
    assert task.task == "notifications.tasks.send_weekly_reports"
    assert task.interval.every == 15 * 60 and task.interval.period == "seconds"
    subscribe(world.manager, "UTC")
    with time_machine.travel(datetime(2026, 3, 16, 8, 5, tzinfo=UTC), tick=False):
        assert send_weekly_reports() == 1
        assert send_weekly_reports() == 0
    assert Notification.objects.filter(kind="weekly_report").count() == 1


def test_managers_manage_subscriptions_in_the_admin(client, world):
    from tests.factories import PASSWORD

    assert client.login(username=world.manager.username, password=PASSWORD)
    url = "/admin/notifications/reportsubscription/add/"
    response = client.post(
        url, {"user": world.lead.pk, "time_zone": "Europe/Paris", "is_active": "on"}
    )
    assert response.status_code == 302
    subscription = ReportSubscription.objects.get(user=world.lead)
    assert str(subscription.zone) == "Europe/Paris" and subscription.is_active
    assert client.get("/admin/notifications/reportsubscription/").status_code == 200
    client.logout()
    assert client.login(username=world.lead.username, password=PASSWORD)
    assert client.get(url).status_code == 403  # team leads read reports, managers subscribe
