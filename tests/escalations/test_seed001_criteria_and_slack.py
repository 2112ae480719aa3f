"""Seed 001: de-escalation criteria in the policy, each level's criteria shown to the
agents working it, and `slack_oncall` apart from `slack_channel` (issue 19)."""

import pytest
from django.urls import reverse

from escalations.notices import compose as notices
from escalations.policies import reach
from escalations.policies.services import policy_spec
from escalations.policies.workflow_yaml import dump_workflow, load_workflow_text
from escalations.rules.spec import LevelSpec
from tests.factories import PASSWORD, make_incident

pytestmark = pytest.mark.django_db


def test_seed_001_define_de_escalation_criteria_to_return_issues_to_lower_tiers(support_preset):
    """Seed 001 checklist: "De-escalation criteria defined to return issues to lower
    tiers"; pitfall 3: "once the fix is deployed, follow-up and monitoring return to the
    appropriate lower tier". Loaded from the preset, stored, exported again."""
    incident = make_incident(severity="P3")
    spec = policy_spec(incident.policy)
    assert spec.level(1).deescalation_criteria == ()
    assert spec.level(3).deescalation_criteria[0] == "Fix deployed to production"
    assert len(spec.level(2).deescalation_criteria) == 2
    exported = dump_workflow(spec)
    assert "deescalation_criteria:" in exported
    assert load_workflow_text(exported).level(3) == spec.level(3)


def test_seed_001_agents_see_the_escalation_criteria_of_their_level(support_preset, agent, client):
    """Seed 001 Do: "define clear escalation criteria for each tier so agents do not have
    to guess whether to escalate": the incident page shows the current level's criteria,
    and the level's de-escalation criteria once it is higher up."""
    incident = make_incident(actor=agent, severity="P3")
    client.login(username=agent.username, password=PASSWORD)
    page = client.get(reverse("incidents:detail", args=[incident.reference])).content.decode()
    assert "When to escalate from L1 · Front-Line Support" in page
    assert "Issue not in runbook or knowledge base" in page
    assert 'data-criteria="deescalation"' not in page  # L1 has nowhere lower to go
    outage = make_incident(actor=agent, severity="P3", is_production_outage=True)  # to L3
    page = client.get(reverse("incidents:detail", args=[outage.reference])).content.decode()
    assert "When to de-escalate from L3 · Engineering / Executive" in page
    assert "Fix deployed to production" in page


def test_seed_001_slack_oncall_and_slack_channel_use_separate_webhooks(settings):
    """Seed 001 severity_overrides: P1 `notification: slack_oncall`, P2 `slack_channel`:
    two Slack destinations, two webhooks (SLACK_ONCALL_WEBHOOK_URL, SLACK_WEBHOOK_URL)."""
    settings.SLACK_WEBHOOK_URL = "https://hooks.slack.example/support-channel"
    settings.SLACK_ONCALL_WEBHOOK_URL = "https://hooks.slack.example/eng-oncall"
    level = LevelSpec(3, "Engineering", contacts=(("chat", "#eng-oncall"),))

    def slack_urls(severity, method):
        channels = notices.channels_for(severity, method)
        return [r.address for r in reach.team_channels(level, channels) if r.channel == "slack"]

    assert slack_urls("P1", "slack_oncall") == ["https://hooks.slack.example/eng-oncall"]
    assert slack_urls("P2", "slack_channel") == ["https://hooks.slack.example/support-channel"]
    assert slack_urls("P1", "") == ["https://hooks.slack.example/support-channel"]
    settings.SLACK_ONCALL_WEBHOOK_URL = ""  # not configured: the one webhook serves both
    assert slack_urls("P1", "slack_oncall") == ["https://hooks.slack.example/support-channel"]
