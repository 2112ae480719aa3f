"""Impact and pattern triggers read their numbers and windows from the policy, not
from the seed defaults (50 users; 3 repeats in 30 days; 3 high-severity in 24h)."""

from datetime import UTC, datetime, timedelta

import pytest

from escalations.models import Escalation, TriggerFiring
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import LevelSpec, TargetSpec, TriggerSettings
from tests.escalations.conftest import H, simple_spec
from tests.factories import AccountFactory, ComponentFactory, make_incident

pytestmark = pytest.mark.django_db

T = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def ladder(**knobs):
    """Three levels, no severity overrides, these trigger settings."""
    levels = tuple(LevelSpec(n, f"Level {n}", sla=TargetSpec(resolution=8 * H)) for n in (1, 2, 3))
    spec = simple_spec(levels=levels, matrix=(), triggers=TriggerSettings(**knobs))
    return policy_create_from_spec(spec=spec, name="ladder", make_default=True)


def moves(incident):
    return list(
        Escalation.objects.filter(incident=incident)
        .order_by("at", "id")
        .values_list("from_level", "to_level", "trigger")
    )


def opened(agent, at, **fields):
    return make_incident(actor=agent, opened_at=at, now=at, **fields)


def test_users_affected_above_the_policy_number(roles, agent):
    ladder(users_affected=10)
    assert moves(opened(agent, T, users_affected=10)) == []
    assert moves(opened(agent, T, users_affected=11)) == [(1, 2, "impact")]
    assert "more than 10" in Escalation.objects.get().reason


@pytest.mark.parametrize(
    "same",
    [
        pytest.param(lambda: {"root_cause_key": "cert-expiry"}, id="root-cause"),
        pytest.param(lambda: {"account": AccountFactory()}, id="account"),
    ],
)
def test_repeats_use_the_policy_count_and_window(roles, agent, same):
    ladder(repeat_count=2, repeat_window=7 * DAY)
    fields = same()
    old = opened(agent, T - 10 * DAY, **fields)  # outside the 7 days
    second = opened(agent, T - DAY, **fields)
    assert moves(old) == [] and moves(second) == []  # the old one does not count
    third = opened(agent, T, **fields)
    assert moves(third) == [(1, 2, "repeat")]  # two within 7 days: the policy's count
    assert "7 days" in Escalation.objects.get(incident=third).reason


def test_component_burst_uses_the_burst_window_and_count(roles, agent):
    # The repeat window (30 days) would take in all three; the burst window does not.
    ladder(burst_count=2, burst_window=2 * H, repeat_window=30 * DAY)
    component = ComponentFactory()
    early = opened(agent, T - 5 * H, component=component, severity="P1")
    middle = opened(agent, T - H / 2, component=component, severity="P1")
    assert moves(early) == [] and moves(middle) == []  # the early one is 4.5h before
    last = opened(agent, T, component=component, severity="P1")
    assert moves(last) == [(1, 2, "burst")]
    assert TriggerFiring.objects.get(trigger="burst").incident == last
    assert "within 2h" in Escalation.objects.get(incident=last).reason
