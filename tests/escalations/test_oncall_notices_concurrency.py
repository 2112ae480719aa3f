"""Four coverage sweeps and four shift sweeps at once on PostgreSQL: each gap is mailed to
each lead once, each shift announced once (the outbox's unique dedup keys decide)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group

from escalations.followup.oncall_notices import coverage_gap_sweep, shift_start_sweep
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec
from escalations.schedules import services
from notifications.models import Notification
from tests.concurrency import run_together
from tests.escalations.conftest import H, simple_spec
from tests.factories import UserFactory, make_schedule

NOW = datetime(2026, 1, 14, 12, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_mail_each_gap_and_shift_once(roles):
    team = Group.objects.create(name="platform")
    schedules = [make_schedule(name=f"Rota {n}", team=team) for n in range(5)]
    level = LevelSpec(1, "Front line", team="platform", sla=TargetSpec(first_response=H))
    policy_create_from_spec(spec=simple_spec(levels=(level,)), name="standard")
    for n in range(2):
        UserFactory(username=f"lead{n}", role="Team Lead").groups.add(team)
    for schedule in schedules:
        for day in (1, 3, 5):  # three gaps each, all within the week
            start = NOW + timedelta(days=day)
            services.override_add(
                actor=None, schedule=schedule, person=None, start=start, end=start + H
            )
    results = run_together(lambda: coverage_gap_sweep(now=NOW), threads=4)
    assert all(result["gaps"] == 15 for result in results)
    assert Notification.objects.filter(kind="oncall_gap").count() == 15 * 2
    assert coverage_gap_sweep(now=NOW)["gaps"] == 15
    assert Notification.objects.filter(kind="oncall_gap").count() == 15 * 2

    handover = datetime(2026, 1, 19, 8, tzinfo=UTC)  # every rota: ana from 09:00 Berlin
    run_together(lambda: shift_start_sweep(now=handover, interval=60), threads=4)
    assert Notification.objects.filter(kind="oncall_shift").count() == 5
