"""Bad alert requests: 400 with field errors, 413 over the size limit, 404 for unknown,
revoked or wrong-kind secrets (the same answer), and nothing half-written."""

import json
from unittest import mock

import pytest
from django.db import DatabaseError
from django.urls import reverse

from incidents import alerts
from incidents.models import AlertDedup, Incident, IncidentEvent
from tests.incidents.alert_helpers import (
    events_v2,
    make_integration,
    make_token,
    post_json,
    sample,
    webhook_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    return make_integration("alertmanager")[1]


def test_malformed_json(client, token):
    answer = post_json(client, webhook_url(token), b'{"version": "4", "alerts": [')
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("Malformed JSON")
    assert post_json(client, webhook_url(token), b"\xff\xfe").status_code == 400
    assert post_json(client, webhook_url(token), b"[" * 100_000).status_code == 400


def test_wrong_types_and_missing_fields_are_named(client, token):
    payload = sample("alertmanager_probe_failure.json")
    payload["alerts"][0]["labels"] = "severity=critical"
    del payload["status"]
    answer = post_json(client, webhook_url(token), payload)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": ["This field is required."],
        "alerts.0.labels": ["Expected an object."],
    }
    assert not Incident.objects.exists()


def test_events_v2_errors_are_a_list(client):
    token = make_token("events-v2")
    answer = events_v2(client, token, {"event_action": "trigger", "payload": {"summary": "x"}})
    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert "'payload.source' This field is required." in body["errors"]
    assert "'payload.severity' This field is required." in body["errors"]
    missing_key = post_json(client, reverse("alerts-events-v2"), {"event_action": "resolve"})
    assert missing_key.status_code == 400
    assert missing_key.json()["errors"] == ["'routing_key' This field is required."]
    broken = post_json(client, reverse("alerts-events-v2"), b"{nope")
    assert broken.status_code == 400
    assert broken.json()["errors"][0].startswith("Malformed JSON")


def test_bodies_over_512_kb_answer_413_before_being_read(client, token):
    payload = sample("alertmanager_probe_failure.json")
    payload["padding"] = "x" * (512 * 1024)
    answer = post_json(client, webhook_url(token), payload)
    assert answer.status_code == 413
    assert not Incident.objects.exists()
    events = post_json(client, reverse("alerts-events-v2"), {"padding": "x" * (600 * 1024)})
    assert events.status_code == 413
    assert events.json()["status"] == "invalid event"


def test_a_body_longer_than_its_declared_length_is_still_cut_at_the_limit(rf, settings, token):
    from incidents.api.ingest import AlertWebhookView

    settings.ALERT_MAX_BODY = 2048
    body = json.dumps({**sample("alertmanager_probe_failure.json"), "pad": "x" * 4096})
    request = rf.post(webhook_url(token), data=body, content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(len(body))  # honest length, over the limit
    assert AlertWebhookView.as_view()(request, token=token).status_code == 413
    request = rf.post(webhook_url(token), data=body, content_type="application/json")
    del request.META["CONTENT_LENGTH"]  # unknown length: read up to the limit and stop
    request._stream = mock.Mock(read=lambda size=None: body.encode()[:size])
    answer = AlertWebhookView.as_view()(request, token=token)
    assert answer.status_code == 413


def test_unknown_revoked_and_wrong_kind_secrets_look_the_same(client):
    integration, token = make_integration("alertmanager")
    grafana_token = make_token("grafana")
    events, events_token = make_integration("events-v2")
    payload = sample("alertmanager_probe_failure.json")
    unknown = post_json(client, webhook_url("not-a-secret-of-ours-at-all-xxxx"), payload)
    alerts.integration_revoke(integration=integration)
    revoked = post_json(client, webhook_url(token), payload)
    wrong_kind = post_json(client, webhook_url(events_token), payload)
    for answer in (unknown, revoked, wrong_kind):
        assert answer.status_code == 404
        assert answer.json() == {"detail": "Not found."}
    assert not Incident.objects.exists()
    # An Events API secret is no webhook secret and the other way round.
    assert events_v2(client, grafana_token, "pagerduty_trigger.json").status_code == 404
    alerts.integration_revoke(integration=events)
    revoked_events = events_v2(client, events_token, "pagerduty_trigger.json")
    assert revoked_events.status_code == 404
    assert revoked_events.json()["message"] == "Unknown routing key"


def test_the_lookup_takes_the_same_path_for_unknown_and_revoked(token, django_assert_num_queries):
    """No timing difference: one indexed query and a constant-time compare, hit or miss."""
    integration = alerts.integration_for_token(token, kinds=("alertmanager",))
    alerts.integration_revoke(integration=integration)
    with (
        mock.patch("incidents.alerts.hmac.compare_digest", wraps=alerts.hmac.compare_digest) as cmp,
        django_assert_num_queries(1),
    ):
        assert alerts.integration_for_token(token, kinds=("alertmanager",)) is None
    with django_assert_num_queries(1):
        assert alerts.integration_for_token("x" * 32, kinds=("alertmanager",)) is None
    assert cmp.call_count == 1


def test_a_failure_midway_leaves_nothing_half_written(client, token):
    with (
        mock.patch("incidents.alerts._alert_event", side_effect=DatabaseError("disk full")),
        pytest.raises(DatabaseError),
    ):
        post_json(client, webhook_url(token), sample("alertmanager_probe_failure.json"))
    assert not Incident.objects.exists()
    assert not AlertDedup.objects.exists()
    assert not IncidentEvent.objects.exists()


def test_get_is_not_allowed(client, token):
    assert client.get(webhook_url(token)).status_code == 405
