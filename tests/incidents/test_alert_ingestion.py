"""Alerts open, deduplicate, acknowledge and resolve incidents, end to end over HTTP,
with the payload samples from the Alertmanager, Grafana and PagerDuty documentation."""

import copy
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents import services
from incidents.models import AlertDedup, EventKind, Incident
from tests.incidents.alert_helpers import (
    events_v2,
    make_token,
    post_json,
    sample,
    webhook_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alertmanager():
    return make_token("alertmanager")


def test_firing_group_opens_one_incident_and_repeats_only_count(client, alertmanager):
    token = alertmanager
    payload = sample("alertmanager_probe_failure.json")
    first = post_json(client, webhook_url(token), payload)
    assert first.status_code == 200
    [outcome] = first.json()["incidents"]
    assert outcome["action"] == "opened"
    incident = Incident.objects.get(reference=outcome["incident"])
    assert incident.title == "ProbeFailure: BlackBox Probe Failure: https://server.example.org"
    assert incident.severity == "P1"  # critical -> P1 by the default mapping
    assert incident.channel.code == "MONITORING"
    assert incident.created_by is None
    assert "has been down for over 5m" in incident.description

    for _ in range(3):
        again = post_json(client, webhook_url(token), payload)
        assert again.json()["incidents"][0] == {**outcome, "action": "updated"}
    assert Incident.objects.count() == 1
    dedup = AlertDedup.objects.get()
    assert (dedup.triggers, dedup.is_open, dedup.incident_id) == (4, True, incident.pk)
    # Counted, not duplicated: one "alert" entry on the timeline for the same content.
    assert incident.events.filter(kind=EventKind.ALERT).count() == 1


def test_resolved_group_resolves_its_incident_and_frees_the_key(client, alertmanager):
    token = alertmanager
    payload = sample("alertmanager_probe_failure.json")
    reference = post_json(client, webhook_url(token), payload).json()["incidents"][0]["incident"]
    resolved = copy.deepcopy(payload)
    resolved["status"] = "resolved"
    resolved["alerts"][0].update(status="resolved", endsAt="2023-02-06T13:30:00Z")

    answer = post_json(client, webhook_url(token), resolved)
    assert answer.json()["incidents"][0] == {
        "key": 'group:{}/{severity="critical"}:{alertname="ProbeFailure"}',
        "action": "resolved",
        "incident": reference,
    }
    incident = Incident.objects.get(reference=reference)
    assert incident.status == "resolved"
    event = incident.events.get(kind=EventKind.STATUS_CHANGED)
    assert "alert source reports the problem gone" in event.body
    assert not AlertDedup.objects.filter(is_open=True).exists()

    # Firing again later is a new occurrence: a new incident.
    reopened = post_json(client, webhook_url(token), payload).json()["incidents"][0]
    assert reopened["action"] == "opened"
    assert reopened["incident"] != reference
    # A second "resolved" for a key with nothing open changes nothing.
    post_json(client, webhook_url(token), resolved)
    assert post_json(client, webhook_url(token), resolved).json()["incidents"][0]["action"] == (
        "ignored"
    )


def test_a_change_in_the_firing_alerts_is_noted_and_a_higher_severity_raises(client, alertmanager):
    token = alertmanager
    payload = sample("alertmanager_documented_format.json")  # warning -> P3
    reference = post_json(client, webhook_url(token), payload).json()["incidents"][0]["incident"]
    assert Incident.objects.get(reference=reference).severity == "P3"
    payload["alerts"][1].update(status="firing", endsAt="0001-01-01T00:00:00Z")
    payload["alerts"][1]["labels"]["severity"] = "critical"
    assert post_json(client, webhook_url(token), payload).json()["incidents"][0]["action"] == (
        "updated"
    )
    incident = Incident.objects.get(reference=reference)
    assert incident.severity == "P1"
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.ALERT) == 2
    assert EventKind.SEVERITY_CHANGED in kinds
    assert "2 firing, 0 resolved" in incident.events.filter(kind=EventKind.ALERT).last().body


def test_people_resolving_while_it_still_fires_gives_a_new_incident(client, alertmanager, agent):
    token = alertmanager
    payload = sample("alertmanager_probe_failure.json")
    reference = post_json(client, webhook_url(token), payload).json()["incidents"][0]["incident"]
    services.incident_change_status(
        incident=Incident.objects.get(reference=reference),
        status="resolved",
        actor=agent,
        note="Restarted the prober",
    )
    again = post_json(client, webhook_url(token), payload).json()["incidents"][0]
    assert again["action"] == "opened"
    assert again["incident"] != reference
    assert AlertDedup.objects.filter(is_open=True).count() == 1


def test_fingerprint_grouping_opens_an_incident_per_alert():
    from django.test import Client

    client = Client()
    token = make_token("alertmanager", grouping="fingerprint")
    payload = sample("alertmanager_documented_format.json")
    outcomes = post_json(client, webhook_url(token), payload).json()["incidents"]
    assert [o["action"] for o in outcomes] == ["opened", "ignored"]  # db-2 was never open
    payload["alerts"][1].update(status="firing", endsAt="0001-01-01T00:00:00Z")
    outcomes = post_json(client, webhook_url(token), payload).json()["incidents"]
    assert [o["action"] for o in outcomes] == ["updated", "opened"]
    assert Incident.objects.count() == 2
    payload["alerts"][0]["status"] = "resolved"
    outcomes = post_json(client, webhook_url(token), payload).json()["incidents"]
    assert [o["action"] for o in outcomes] == ["resolved", "updated"]
    assert sorted(Incident.objects.values_list("status", flat=True)) == ["new", "resolved"]


def test_custom_severity_label_and_mapping(client):
    token = make_token(
        "alertmanager",
        severity_label="priority",
        severity_map={"page": "P0"},
        default_severity="P3",
    )
    payload = sample("alertmanager_probe_failure.json")
    payload["alerts"][0]["labels"]["priority"] = "page"
    reference = post_json(client, webhook_url(token), payload).json()["incidents"][0]["incident"]
    assert Incident.objects.get(reference=reference).severity == "P0"
    other = sample("alertmanager_documented_format.json")  # no `priority` label
    reference = post_json(client, webhook_url(token), other).json()["incidents"][0]["incident"]
    assert Incident.objects.get(reference=reference).severity == "P3"


def test_grafana_documented_payload(client):
    token = make_token("grafana")
    answer = post_json(client, webhook_url(token), sample("grafana_two_firing.json"))
    assert answer.status_code == 200
    incident = Incident.objects.get(reference=answer.json()["incidents"][0]["incident"])
    assert incident.title == "[FIRING:2] (blue)"
    assert incident.description.startswith("**Firing**")
    assert incident.severity == "P2"  # no severity label: the default
    resolved = sample("grafana_two_firing.json")
    resolved.update(status="resolved", state="ok")
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
    assert post_json(client, webhook_url(token), resolved).json()["incidents"][0]["action"] == (
        "resolved"
    )


def test_pagerduty_documented_trigger_acknowledge_resolve(client):
    token = make_token("events-v2")
    answer = events_v2(client, token, "pagerduty_trigger.json")
    assert answer.status_code == 202
    assert answer.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "samplekeyhere",
    }
    incident = AlertDedup.objects.get(key="samplekeyhere").incident
    assert incident.title == "Example alert on host1.example.com"
    assert incident.severity == "P3"  # info -> P3
    assert "Source: monitoringtool:cloudvendor" in incident.description

    assert events_v2(client, token, "pagerduty_trigger.json").status_code == 202
    assert Incident.objects.count() == 1
    assert AlertDedup.objects.get().triggers == 2

    assert events_v2(client, token, "pagerduty_acknowledge.json").status_code == 202
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.acknowledged_at is not None
    assert incident.assignee is None

    assert events_v2(client, token, "pagerduty_resolve.json").status_code == 202
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_a_trigger_without_dedup_key_returns_the_key_to_use(client):
    token = make_token("events-v2")
    body = sample("pagerduty_trigger.json")
    del body["dedup_key"]
    answer = events_v2(client, token, body)
    key = answer.json()["dedup_key"]
    assert len(key) == 32
    assert events_v2(client, token, "pagerduty_resolve.json", dedup_key=key).status_code == 202
    assert Incident.objects.get().status == "resolved"


def test_acknowledge_or_resolve_of_an_unknown_key_is_accepted_and_changes_nothing(client):
    token = make_token("events-v2")
    assert events_v2(client, token, "pagerduty_resolve.json").status_code == 202
    assert events_v2(client, token, "pagerduty_acknowledge.json").status_code == 202
    assert not Incident.objects.exists()


def test_alert_incidents_follow_the_policy_like_any_other(client, alertmanager):
    from escalations.policies.services import policy_create_from_spec
    from escalations.rules.spec import LevelSpec, TargetSpec, WorkflowSpec

    spec = WorkflowSpec(
        levels=(
            LevelSpec(1, "Front line", sla=TargetSpec(first_response=timedelta(hours=1))),
            LevelSpec(2, "Specialists", sla=TargetSpec(first_response=timedelta(hours=2))),
        )
    )
    policy_create_from_spec(spec=spec, name="standard", make_default=True)
    token = alertmanager
    with time_machine.travel(timezone.now(), tick=False):
        reference = post_json(
            client, webhook_url(token), sample("alertmanager_probe_failure.json")
        ).json()["incidents"][0]["incident"]
        incident = Incident.objects.get(reference=reference)
        assert incident.policy.name == "standard"
        assert incident.next_check_at is not None
