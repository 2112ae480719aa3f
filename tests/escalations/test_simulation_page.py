"""Policy simulation on real incidents: next to what happened, and read-only."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations.models import Policy
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec
from escalations.simulation.runs import run_simulation
from notifications.models import Notification
from tests.escalations.conftest import H, simple_spec
from tests.escalations.review_scenario import NOW, build_world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    with time_machine.travel(NOW, tick=False):
        yield build_world()


@pytest.fixture
def strict_draft(world):
    """The same name as the live policy, with a 15-minute first response at L1."""
    spec = simple_spec(
        levels=(
            LevelSpec(
                1,
                "Front line",
                contacts=(("email", "frontline@example.com"),),
                sla=TargetSpec(first_response=H / 4, resolution=8 * H),
            ),
            LevelSpec(2, "Specialists", sla=TargetSpec(first_response=2 * H, resolution=4 * H)),
        )
    )
    return policy_create_from_spec(spec=spec, name="standard", activate=False)


def simulate(world, draft, **kwargs):
    day = NOW.date()
    from escalations.analytics.filters import day_bounds

    start, end = day_bounds(day - timedelta(days=1), day)
    return run_simulation(
        user=world.manager, policy=draft, start=start, end=end, now=NOW, filters={}, **kwargs
    )


def test_the_draft_is_compared_with_what_happened(world, strict_draft):
    result = simulate(world, strict_draft)
    assert result.in_range == result.replayed == 6
    levels = {label: (actual, simulated) for label, actual, simulated in result.levels}
    # Really: one manual and one security escalation to L2. With a 15-minute first
    # response, 'soon' (50 min unanswered) and 'breached' (2 h) escalate as well.
    assert levels["L2"] == (2, 4)
    breaches = {label: (actual, simulated) for label, actual, simulated in result.breaches}
    # 'breached' stays breached (L2's 2h from the opening ends now); 'soon' escalated
    # at 15 minutes to L2, whose 2h it has not used up.
    assert breaches["First response"] == (1, 1)
    people = {name: (actual, simulated) for name, actual, simulated in result.people}
    assert people["someone@example.com"] == (1, 0)  # the failed one really sent
    assert people["Front line <frontline@example.com>"][1] > 0  # the draft's L1 contact
    changed = {row["reference"] for row in result.differences}
    assert {world.soon.reference, world.breached.reference} <= changed
    assert world.resolved.reference not in changed


def test_simulating_writes_nothing_and_sends_nothing(
    world, strict_draft, django_capture_on_commit_callbacks
):
    before = Notification.objects.count()
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        simulate(world, strict_draft)
    statements = [q["sql"].lstrip().split()[0].upper() for q in queries.captured_queries]
    assert set(statements) <= {"SELECT"}, statements
    assert callbacks == []
    assert Notification.objects.count() == before
    assert Policy.objects.get(pk=strict_draft.pk).status == "draft"


def test_only_the_newest_incidents_are_replayed_past_the_limit(world, strict_draft, settings):
    settings.SIMULATION_MAX_INCIDENTS = 2
    result = simulate(world, strict_draft)
    assert (result.in_range, result.replayed) == (6, 2)


def test_the_page(client, world, strict_draft):
    assert client.login(username=world.manager.username, password=PASSWORD)
    url = reverse("simulation")
    with time_machine.travel(NOW, tick=False):
        empty = client.get(url)
        assert empty.status_code == 200 and "Pick a draft" in empty.content.decode()
        response = client.get(
            url,
            {
                "draft": strict_draft.pk,
                "start": "2026-03-10",
                "end": "2026-03-11",
                "same_name": "on",
            },
        )
        bad = client.get(url, {"draft": "999999"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Replayed 6 of 6 incidents" in html
    assert world.soon.reference in html
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()


def test_agents_cannot_simulate(client, world):
    assert client.login(username=world.agent.username, password=PASSWORD)
    assert client.get(reverse("simulation")).status_code == 403
