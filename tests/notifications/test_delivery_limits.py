"""Quiet hours, daily caps and folding: configurable, visible, never for urgent messages."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from escalations.notices import compose as notices
from escalations.policies import reach
from notifications import services
from notifications.models import Contact, DeliverySettings, Notification, Status
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db
MONDAY_NIGHT = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 23:30 UTC, Monday
WEEKDAYS = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(autouse=True)
def locmem(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def queue(incident, recipient, n=0, now=MONDAY_NIGHT):
    rows = notices.build(
        kind="trigger",
        incident=incident,
        recipients=[recipient],
        context={"reasons": [f"reason {n}"]},
        dedup_base=f"t{n}",
        urgent=incident.severity in ("P0", "P1"),
        now=now,
    )
    Notification.objects.bulk_create(rows)
    return rows[0]


def test_non_urgent_waits_for_the_next_working_hour_in_their_zone(agent):
    person = UserFactory(username="berlin", time_zone="Europe/Berlin", working_hours=WEEKDAYS)
    incident = make_incident(actor=agent, severity="P3")
    row = queue(incident, reach.person(person))
    # 23:30 UTC Monday is 00:30 Tuesday in Berlin: next opening 09:00 Berlin = 08:00 UTC.
    assert row.next_attempt_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_urgent_severities_go_at_any_hour(agent):
    person = UserFactory(username="oncall", working_hours=WEEKDAYS, urgent_severities=["P0"])
    incident = make_incident(actor=agent, severity="P0")
    assert queue(incident, reach.person(person)).next_attempt_at == MONDAY_NIGHT


def test_quiet_hours_can_be_switched_off(agent):
    DeliverySettings.objects.create(pk=1, respect_working_hours=False)
    person = UserFactory(username="nine-to-five", working_hours=WEEKDAYS)
    incident = make_incident(actor=agent, severity="P3")
    assert queue(incident, reach.person(person)).next_attempt_at == MONDAY_NIGHT


def test_directory_contacts_of_a_levels_team_are_notified_on_their_channels(agent, settings):
    from escalations.rules.spec import LevelSpec

    team = Group.objects.create(name="db-team")
    Contact.objects.create(
        name="DB on-call",
        team=team,
        email="db@example.com",
        slack_webhook_url="https://hooks.slack.com/services/T/B/x",
        hours="24/7",
    )
    Contact.objects.create(name="Retired", team=team, email="old@example.com", is_active=False)
    level = LevelSpec(2, "Databases", team="db-team")
    found = {
        (r.channel, r.address) for r in reach.level_recipients(level, channels=["email", "slack"])
    }
    assert found == {
        ("email", "db@example.com"),
        ("slack", "https://hooks.slack.com/services/T/B/x"),
    }


def test_repeated_messages_to_one_person_fold_into_one(agent):
    DeliverySettings.objects.create(pk=1, fold_window_minutes=10)
    incident = make_incident(actor=agent, severity="P3", title="Disk filling up")
    first = queue(incident, reach.Recipient("email", "lead@example.com"), 1)
    queue(incident, reach.Recipient("email", "lead@example.com"), 2)
    queue(incident, reach.Recipient("email", "other@example.com"), 3)
    result = services.deliver_due(now=MONDAY_NIGHT)
    assert result["sent"] == 2
    assert len(mail.outbox) == 2
    to_lead = next(m for m in mail.outbox if m.to == ["lead@example.com"])
    assert "Also for you in the same minutes (1)" in to_lead.body
    folded = Notification.objects.get(status=Status.SUPPRESSED)
    assert folded.folded_into_id == first.pk and "folded into" in folded.suppressed_reason


def test_daily_cap_suppresses_non_urgent_and_says_why(agent):
    DeliverySettings.objects.create(pk=1, daily_cap=2, fold_window_minutes=0)
    incident = make_incident(actor=agent, severity="P3")
    for n in range(3):
        queue(
            incident,
            reach.Recipient("email", "busy@example.com"),
            n,
            now=MONDAY_NIGHT + timedelta(minutes=n),
        )
        services.deliver_due(now=MONDAY_NIGHT + timedelta(minutes=n))
    statuses = list(
        Notification.objects.order_by("created_at").values_list("status", "suppressed_reason")
    )
    assert statuses[:2] == [(Status.SENT, ""), (Status.SENT, "")]
    assert statuses[2] == (Status.SUPPRESSED, "daily cap of 2 reached")


def test_urgent_messages_ignore_caps_and_folding(agent):
    DeliverySettings.objects.create(pk=1, daily_cap=1, fold_window_minutes=10)
    incident = make_incident(actor=agent, severity="P1")
    for n in range(3):
        queue(incident, reach.Recipient("email", "oncall@example.com"), n)
    assert services.deliver_due(now=MONDAY_NIGHT)["sent"] == 3
