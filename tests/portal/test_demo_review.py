"""Demo data gives the review pages something to show: subscribers and a draft."""

import pytest

from escalations.models import Policy
from escalations.policies.services import policy_spec
from notifications.models import ReportSubscription
from portal.demo import DEFAULT_PRESET, load_demo

pytestmark = pytest.mark.django_db


def test_demo_subscribes_managers_and_leaves_a_faster_draft(roles):
    load_demo(count=3, seed=3)
    load_demo(count=3, seed=4)  # a second load adds no second draft or subscription
    subscribers = set(ReportSubscription.objects.values_list("user__username", flat=True))
    assert subscribers == {"manager", "director"}
    live = Policy.objects.get(name=DEFAULT_PRESET, status="active")
    draft = Policy.objects.get(name=DEFAULT_PRESET, status="draft")
    live_targets = dict(policy_spec(live).matrix)
    draft_targets = dict(policy_spec(draft).matrix)
    for key, target in live_targets.items():
        if target.first_response:
            assert draft_targets[key].first_response == target.first_response / 2
        assert draft_targets[key].resolution == target.resolution
