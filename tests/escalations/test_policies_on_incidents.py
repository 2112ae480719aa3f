from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from escalations.engine import policy_moves
from escalations.models import Policy, PolicyStatus
from escalations.policies import services as policies
from escalations.sla.services import incident_clocks
from incidents import services
from incidents.models import Channel, EventKind
from tests.escalations.conftest import H, simple_spec
from tests.factories import AccountFactory, ComponentFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(minutes=10)


def test_new_incident_takes_the_default_policy_and_its_first_level(default_policy, agent, t0):
    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    assert incident.policy == default_policy
    assert incident.current_level == 1 and incident.level_entered_at == t0
    assert incident.events.get().data["policy"] == "standard v1"


def test_match_conditions_and_priority_pick_the_policy(default_policy, make_policy, agent):
    customer = Channel.objects.get(code="CUSTOMER")
    payments = ComponentFactory(name="Payments")
    enterprise = AccountFactory(tier="enterprise")
    make_policy("customers", match={"channels": ("Customer",), "priority": 50})
    make_policy(
        "vip", match={"channels": ("Customer",), "account_tiers": ("enterprise",), "priority": 10}
    )
    make_policy("payments", match={"components": ("Payments",), "priority": 20})
    assert make_incident(actor=agent, channel=customer).policy.name == "customers"
    assert make_incident(actor=agent, channel=customer, account=enterprise).policy.name == "vip"
    assert make_incident(actor=agent, component=payments).policy.name == "payments"
    assert make_incident(actor=agent).policy == default_policy  # runtime channel: no match


def test_without_any_policy_there_are_no_clocks(agent):
    incident = make_incident(actor=agent)
    assert incident.policy is None and incident.next_check_at is None
    assert incident_clocks(incident) == []


def test_next_check_follows_every_change(default_policy, agent, t0):
    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    assert incident.next_check_at == t0 + H / 2  # first response at 50 %
    incident = services.incident_acknowledge(incident=incident, actor=agent, now=t0 + H / 4)
    assert incident.next_check_at == t0 + 4 * H  # resolution at 50 %
    incident = services.incident_change_status(
        incident=incident, status="waiting_on_customer", actor=agent, now=t0 + H
    )
    assert incident.next_check_at is None  # paused: nothing can come due
    incident = services.incident_change_status(
        incident=incident, status="investigating", actor=agent, now=t0 + 3 * H
    )
    assert incident.next_check_at == t0 + 6 * H  # 4h + the 2h spent waiting
    incident = services.incident_change_status(
        incident=incident, status="resolved", actor=agent, note="fixed", now=t0 + 4 * H
    )
    assert incident.next_check_at is None
    incident = services.incident_reopen(
        incident=incident, actor=agent, reason="back", now=t0 + 5 * H
    )
    # Same clock, same start: 2h counted before waiting + 1h after, resolved hour excluded.
    assert incident.next_check_at == t0 + 7 * H
    incident.refresh_from_db()
    assert incident.next_check_at == t0 + 7 * H  # stored, not just on the instance


def test_severity_change_recomputes(default_policy, agent, t0):
    incident = make_incident(actor=agent, opened_at=t0, now=t0, severity="P1")
    readings = {r.clock: r for r in incident_clocks(incident, now=t0)}
    assert readings["update"].due_at == t0 + H
    incident = services.incident_change_severity(
        incident=incident, severity="P2", actor=agent, reason="less", now=t0 + H / 10
    )
    assert "update" not in {r.clock for r in incident_clocks(incident, now=t0 + H / 10)}


def test_incidents_keep_their_version_and_can_be_moved(default_policy, manager, agent, t0):
    incident = make_incident(actor=agent, opened_at=t0, now=t0)
    done = make_incident(actor=agent, opened_at=t0, now=t0)
    services.incident_change_status(incident=done, status="resolved", actor=agent, note="ok")
    draft = policies.policy_fork(policy=default_policy, actor=manager)
    assert (draft.status, draft.version) == (PolicyStatus.DRAFT, 2)
    assert policies.policy_spec(draft) == policies.policy_spec(default_policy)
    draft.levels.filter(number=1).update(resolution=2 * H)
    draft.levels.update(contacts={"email": "oncall@example.com"})  # someone hears it
    Policy.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
    v2 = policies.policy_activate(policy=draft, actor=manager)
    default_policy.refresh_from_db()
    assert default_policy.status == PolicyStatus.RETIRED and v2.is_default
    incident.refresh_from_db()
    assert incident.policy == default_policy  # history is not rewritten
    assert make_incident(actor=agent).policy == v2  # new incidents get the new version

    assert policy_moves.policy_move_open_incidents(policy=v2, actor=manager) == 1
    incident.refresh_from_db()
    done.refresh_from_db()
    assert incident.policy == v2 and done.policy == default_policy
    event = incident.events.get(kind=EventKind.POLICY_CHANGED)
    assert event.actor == manager and event.data["from"] == "standard v1"
    resolution = next(r for r in incident_clocks(incident) if r.clock == "resolution")
    assert resolution.target == 2 * H


def test_moving_maps_a_missing_level_down(default_policy, manager, agent):
    incident = make_incident(actor=agent)
    incident.current_level = 2
    incident.save()
    v2 = policies.policy_create_from_spec(
        spec=simple_spec(levels=simple_spec().levels[:1]), name="standard"
    )
    policy_moves.policy_move_open_incidents(policy=v2, actor=manager)
    incident.refresh_from_db()
    assert incident.current_level == 1
    assert incident.events.get(kind=EventKind.POLICY_CHANGED).data["level_from"] == 2


def test_only_drafts_activate_and_broken_drafts_do_not(default_policy, manager):
    with pytest.raises(ValidationError, match="only drafts"):
        policies.policy_activate(policy=default_policy, actor=manager)
    draft = policies.policy_fork(policy=default_policy, actor=manager)
    draft.overrides.create(severity="P0", route_to=9, notification="email")
    Policy.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
    draft.refresh_from_db()
    with pytest.raises(ValidationError, match="L9"):
        policies.policy_activate(policy=draft, actor=manager)
    default_policy.refresh_from_db()
    assert default_policy.status == PolicyStatus.ACTIVE


def test_one_active_default(default_policy, make_policy):
    other = make_policy("other")
    policies.policy_set_default(policy=other)
    default_policy.refresh_from_db()
    assert not default_policy.is_default
    assert Policy.objects.filter(is_default=True).count() == 1
