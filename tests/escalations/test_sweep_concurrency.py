"""Four sweeps at once on PostgreSQL over 2,000 due incidents: every firing exactly once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalations.engine.services import sla_sweep
from escalations.models import Escalation, ThresholdFiring
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec
from incidents.models import Channel, EventKind, Incident, IncidentEvent
from notifications.models import Notification
from tests.concurrency import run_together
from tests.escalations.conftest import H, simple_spec

COUNT = 2000
SWEEPS = 4


def due_incidents(now, count: int = COUNT):
    """Bulk-made test data: opened 9h ago on an 8h resolution target, never swept."""
    spec = simple_spec(
        levels=(
            LevelSpec(
                1, "One", contacts=(("email", "one@example.com"),), sla=TargetSpec(resolution=8 * H)
            ),
            LevelSpec(
                2,
                "Two",
                contacts=(("email", "two@example.com"),),
                sla=TargetSpec(resolution=16 * H),
            ),
        ),
        matrix=(),
    )
    policy = policy_create_from_spec(spec=spec, name="load", make_default=True)
    channel = Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})[0]
    opened = now - 9 * H
    Incident.objects.bulk_create(
        [
            Incident(
                reference=f"LOAD-{n:05d}",
                title=f"Load {n}",
                severity="P2",
                channel=channel,
                policy=policy,
                current_level=1,
                opened_at=opened,
                level_entered_at=opened,
                next_check_at=opened + 4 * H,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(incident=incident, kind=EventKind.CREATED, at=opened)
            for incident in Incident.objects.all()
        ],
        batch_size=1000,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_fire_everything_exactly_once():
    now = timezone.now().replace(microsecond=0)
    due_incidents(now)
    results = run_together(lambda: sla_sweep(now=now, batch_size=50), threads=SWEEPS, timeout=600)
    assert sum(1 for r in results if r.get("incidents")) > 1  # the work really was shared
    assert sum(r.get("incidents", 0) for r in results) == COUNT
    # 50 %, 75 % and 100 % at L1 for every incident, each once; one escalation each.
    assert ThresholdFiring.objects.count() == 3 * COUNT
    assert Escalation.objects.count() == COUNT
    assert set(Incident.objects.values_list("current_level", flat=True)) == {2}
    assert IncidentEvent.objects.filter(kind=EventKind.SLA_THRESHOLD).count() == 2 * COUNT
    assert IncidentEvent.objects.filter(kind=EventKind.ESCALATED).count() == COUNT
    # L2's one contact hears of each escalation once (the set-based path's bulk outbox rows).
    assert Notification.objects.filter(kind="escalation").count() == COUNT
    assert sla_sweep(now=now) == {}  # and nothing left for a fifth
    assert not Incident.objects.filter(next_check_at__lte=now + timedelta(seconds=1)).exists()
