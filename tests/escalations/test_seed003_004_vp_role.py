"""A VP role of its own (issue 19): seed 003 "Executive Escalation (Customer -> Team Lead ->
Manager -> Director -> VP)" and seed 004 Sev 1 "VP-customer-support notified", "Executive
team briefed". The VP sits above the directors and beside the executives in what they may
see (security incidents included) and do (read, decide nothing on incidents)."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from escalations.policies.services import policy_spec
from incidents.models import Channel
from incidents.permissions import allowed
from incidents.selectors import incidents_visible_to
from notifications.models import Notification
from portal import roles as R
from portal.demo import PEOPLE, ROLE_LOGINS
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def test_vp_is_a_role_reading_like_the_executives_and_seeing_security_incidents(roles):
    vp = UserFactory(username="vp", role=R.VP)
    agent = UserFactory(username="a", role=R.SUPPORT_AGENT)
    security = make_incident(actor=agent, is_security=True)
    assert incidents_visible_to(vp).filter(pk=security.pk).exists()
    assert not allowed(vp, "incident.comment", incident=security)  # informed, not working it
    assert set(R.ROLE_PERMISSIONS[R.VP]) == set(R.ROLE_PERMISSIONS[R.EXECUTIVE])


def test_seed_004_sev_1_vp_customer_support_notified(roles):
    """Seed 004 Sev 1 Team Involvement: "VP-customer-support notified", "Executive team
    briefed": the engineering preset's P0 notice names both."""
    Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})
    call_command("load_workflow", "engineering-5-level", "--default", verbosity=0)
    vp = UserFactory(username="vp", role=R.VP)
    executive = UserFactory(username="exec", role=R.EXECUTIVE)
    incident = make_incident(severity="P0", now=T0)
    told = set(
        Notification.objects.filter(incident=incident, kind="policy_notice").values_list(
            "recipient", flat=True
        )
    )
    assert {vp.email, executive.email} <= told
    # A P1 tells neither (seed 004 Sev 2: managers within an hour).
    p1 = make_incident(severity="P1", now=T0)
    assert not Notification.objects.filter(incident=p1, recipient=vp.email).exists()


def test_seed_003_support_preset_management_chain_ends_at_the_vp(support_preset):
    """Seed 003: "Customer -> Team Lead -> Manager -> Director -> VP"."""
    incident = make_incident(severity="P3")
    assert policy_spec(incident.policy).triggers.management_chain == (
        "Team Lead",
        "Engineering Manager",
        "Director",
        "VP",
    )


def test_demo_has_one_login_per_role_the_vp_included():
    """`manage.py up` prints ROLE_LOGINS: every role once, each a demo person of that role."""
    assert set(ROLE_LOGINS) == set(R.ALL_ROLES)
    people = {username: role for username, _first, _last, role, _zone in PEOPLE}
    assert all(people[username] == role for role, username in ROLE_LOGINS.items())
    assert ROLE_LOGINS[R.VP] == "vp"
