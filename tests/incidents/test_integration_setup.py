"""Integrations are made in the admin or with `manage.py create_integration`; both show
the secret URL once, and the URL works. The admin revokes and rotates secrets."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from incidents.models import Incident, Integration
from tests.factories import PASSWORD
from tests.incidents.alert_helpers import events_v2, make_integration, post_json, sample

pytestmark = pytest.mark.django_db

URL = re.compile(r"http://\S+/api/alerts/([A-Za-z0-9_-]{32})/")


def test_command_prints_a_working_secret_url(capsys, client):
    call_command("create_integration", "--kind", "alertmanager", "--name", "Prometheus prod")
    out = capsys.readouterr()
    [token] = URL.findall(out.out)
    assert "shown only this once" in out.err
    integration = Integration.objects.get(name="Prometheus prod")
    assert (integration.kind, integration.channel.code, integration.rate_limit) == (
        "alertmanager",
        "MONITORING",
        300,
    )
    assert token not in str(Integration.objects.values().get())  # only its hash is stored
    path = URL.search(out.out).group(0).split("://", 1)[1].split("/", 1)[1]
    answer = post_json(client, "/" + path, sample("alertmanager_probe_failure.json"))
    assert answer.status_code == 200
    assert Incident.objects.count() == 1


def test_command_for_events_v2_prints_the_routing_key(capsys, client):
    call_command(
        "create_integration",
        "--kind",
        "events-v2",
        "--name",
        "Datadog",
        "--severity-map",
        '{"critical": "P0"}',
        "--grouping",
        "fingerprint",
    )
    out = capsys.readouterr().out
    assert "/api/alerts/v2/enqueue" in out
    [key] = re.findall(r"routing_key: (\S+)", out)
    body = sample("pagerduty_trigger.json")
    body["payload"]["severity"] = "critical"
    assert events_v2(client, key, body).status_code == 202
    assert Incident.objects.get().severity == "P0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "alertmanager", "--name", "x", "--channel", "NOPE"], "No channel"),
        (["--kind", "alertmanager", "--name", "x", "--severity-map", "{"], "not JSON"),
        (["--kind", "alertmanager", "--name", "x", "--severity-map", '{"a": "P9"}'], "severity"),
    ],
)
def test_command_errors(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_integration", *args)
    assert not Integration.objects.exists()


def test_command_refuses_a_taken_name():
    make_integration("grafana", name="Grafana")
    with pytest.raises(CommandError, match="exists"):
        call_command("create_integration", "--kind", "grafana", "--name", "Grafana")


def test_admin_add_shows_the_url_once_then_revoke(client, manager):
    assert client.login(username=manager.username, password=PASSWORD)
    add = reverse("admin:incidents_integration_add")
    assert client.get(add).status_code == 200
    answer = client.post(
        add,
        {
            "name": "Alertmanager EU",
            "kind": "alertmanager",
            "channel": Integration._meta.get_field("channel").get_default(),
            "grouping": "group_key",
            "severity_label": "severity",
            "severity_map": '{"critical": "P1", "warning": "P3"}',
            "default_severity": "P2",
            "rate_limit": 300,
            "rate_window": 300,
        },
        follow=True,
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    [token] = URL.findall(page)
    integration = Integration.objects.get(name="Alertmanager EU")
    assert integration.created_by == manager
    change = client.get(reverse("admin:incidents_integration_change", args=[integration.pk]))
    assert token not in change.content.decode()  # once only
    assert integration.token_hint in change.content.decode()

    hook = reverse("alerts-webhook", args=[token])
    assert post_json(client, hook, sample("alertmanager_probe_failure.json")).status_code == 200
    client.post(
        reverse("admin:incidents_integration_changelist"),
        {"action": "revoke", "_selected_action": [integration.pk]},
    )
    integration.refresh_from_db()
    assert not integration.is_active
    assert integration.revoked_at is not None
    assert post_json(client, hook, sample("alertmanager_probe_failure.json")).status_code == 404


def test_admin_rejects_a_bad_severity_mapping(client, manager):
    assert client.login(username=manager.username, password=PASSWORD)
    answer = client.post(
        reverse("admin:incidents_integration_add"),
        {
            "name": "Bad",
            "kind": "alertmanager",
            "channel": Integration._meta.get_field("channel").get_default(),
            "grouping": "group_key",
            "severity_label": "severity",
            "severity_map": '{"critical": "urgent"}',
            "default_severity": "P2",
            "rate_limit": 300,
            "rate_window": 300,
        },
    )
    assert answer.status_code == 200
    assert "which is no severity" in answer.content.decode()
    assert not Integration.objects.exists()


def test_admin_rotate_gives_a_new_url_and_kills_the_old(client, manager):
    integration, old = make_integration("alertmanager")
    assert client.login(username=manager.username, password=PASSWORD)
    answer = client.post(
        reverse("admin:incidents_integration_changelist"),
        {"action": "rotate_secret", "_selected_action": [integration.pk]},
        follow=True,
    )
    [new] = URL.findall(answer.content.decode())
    assert new != old
    payload = sample("alertmanager_probe_failure.json")
    assert post_json(client, reverse("alerts-webhook", args=[old]), payload).status_code == 404
    assert post_json(client, reverse("alerts-webhook", args=[new]), payload).status_code == 200


def test_agents_cannot_manage_integrations(client, agent):
    agent.is_staff = True
    agent.save()
    assert client.login(username=agent.username, password=PASSWORD)
    assert client.get(reverse("admin:incidents_integration_add")).status_code == 403
