"""A breached clock (100 %) escalates along the policy's "sla_violation" route: to the
routed level when it is higher, else one level up (never "top level" below the top)."""

from datetime import UTC, datetime

import pytest

from escalations.engine.services import sla_sweep
from escalations.models import Escalation
from escalations.policies.services import policy_create_from_spec
from escalations.rules.spec import NEXT_LEVEL, LevelSpec, TargetSpec, TriggerSettings
from escalations.rules.triggers import breach_target
from incidents.models import EventKind
from notifications.models import Notification
from tests.escalations.conftest import H, simple_spec
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEVELS = tuple(
    LevelSpec(
        n,
        f"Level {n}",
        contacts=(("email", f"l{n}@example.com"),),
        sla=TargetSpec(resolution=8 * n * H),
    )
    for n in (1, 2, 3, 4)
)


def ladder_spec(impact_routes):
    return simple_spec(
        levels=LEVELS, matrix=(), triggers=TriggerSettings(impact_routes=impact_routes)
    )


def ladder(impact_routes):
    spec = ladder_spec(impact_routes)
    return policy_create_from_spec(spec=spec, name="ladder", make_default=True)


@pytest.mark.parametrize(
    ("routes", "targets"),
    [
        pytest.param((("sla_violation", 3),), {1: 3, 2: 3, 3: 4, 4: None}, id="to-L3"),
        pytest.param((("sla_violation", NEXT_LEVEL),), {1: 2, 2: 3, 3: 4, 4: None}, id="next"),
        pytest.param((), {1: 2, 2: 3, 3: 4, 4: None}, id="no-route"),
    ],
)
def test_breach_target_rule(routes, targets):
    spec = ladder_spec(routes)
    assert {level: breach_target(spec, level) for level in targets} == targets


def moves(incident):
    return list(
        Escalation.objects.filter(incident=incident)
        .order_by("at", "id")
        .values_list("from_level", "to_level", "trigger")
    )


def test_a_breach_goes_where_the_policy_routes_it(roles, agent):
    ladder((("sla_violation", 3),))
    incident = make_incident(actor=agent, opened_at=T0, now=T0)
    assert sla_sweep(now=T0 + 8 * H)["escalated"] == 1  # L1's 8h resolution target
    assert moves(incident) == [(1, 3, "sla")]  # straight to L3, past L2


def test_the_pre_escalation_notice_goes_to_the_routed_level(roles, agent):
    ladder((("sla_violation", 3),))
    make_incident(actor=agent, opened_at=T0, now=T0)
    sla_sweep(now=T0 + 6 * H)  # 75 % of L1's 8h
    notices = Notification.objects.filter(kind="pre_escalation")
    assert set(notices.values_list("recipient", flat=True)) == {"l3@example.com"}


def test_a_breach_at_or_above_the_routed_level_still_climbs_one(roles, agent):
    ladder((("sla_violation", 3),))
    incident = make_incident(actor=agent, opened_at=T0, now=T0)
    sla_sweep(now=T0 + 8 * H)
    assert sla_sweep(now=T0 + 24 * H)["escalated"] == 1  # L3's 24h target breached
    assert moves(incident) == [(1, 3, "sla"), (3, 4, "sla")]
    assert not incident.events.filter(kind=EventKind.SLA_THRESHOLD, data__top_level=True)


@pytest.mark.parametrize(
    "routes",
    [
        pytest.param((("sla_violation", NEXT_LEVEL),), id="next"),
        pytest.param((("security", 3),), id="no-route"),
    ],
)
def test_without_a_fixed_route_a_breach_climbs_one_level(roles, agent, routes):
    ladder(routes)
    incident = make_incident(actor=agent, opened_at=T0, now=T0)
    sla_sweep(now=T0 + 8 * H)
    assert moves(incident) == [(1, 2, "sla")]
