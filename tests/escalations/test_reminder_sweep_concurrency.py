"""Four reminder sweeps at once on PostgreSQL over 600 overdue action items: each item is
claimed by one sweep and reminded exactly once."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from escalations.followup.reminders import reminder_sweep
from escalations.models import ActionItem, PostIncidentReview
from notifications.models import Notification
from tests.concurrency import run_together
from tests.factories import UserFactory, make_incident

COUNT = 600
SWEEPS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reminder_sweeps_remind_each_item_once(roles):
    now = timezone.now().replace(microsecond=0)
    owner = UserFactory(username="owner", role="Support Agent")
    incident = make_incident(actor=owner, severity="P0")
    review = PostIncidentReview.objects.create(
        incident=incident, owner=owner, created_at=now, updated_at=now
    )
    ActionItem.objects.bulk_create(
        [
            ActionItem(
                review=review,
                incident=incident,
                title=f"Item {n}",
                owner=owner,
                due_date=date.today(),
                due_at=now - timedelta(hours=1),
                next_reminder_at=now - timedelta(hours=1),
                created_at=now - timedelta(days=3),
            )
            for n in range(COUNT)
        ]
    )
    results = run_together(
        lambda: reminder_sweep(now=now, batch_size=25), threads=SWEEPS, timeout=300
    )
    assert sum(1 for r in results if r.get("item_overdue")) > 1  # the work really was shared
    assert sum(r.get("item_overdue", 0) for r in results) == COUNT  # each claimed once
    assert Notification.objects.filter(kind="action_item_reminder").count() == COUNT
    assert not ActionItem.objects.filter(next_reminder_at__isnull=False).exists()
    assert reminder_sweep(now=now) == {}
