"""Alert payloads read into signals: pure, no database. Real documented samples first."""

import copy
import json
from pathlib import Path

import pytest

from incidents.alert_payloads import (
    FINGERPRINT,
    PayloadError,
    map_severity,
    parse_alertmanager,
    parse_events_v2,
    parse_grafana,
    parse_time,
)

DATA = Path(__file__).parent / "data" / "alerts"


def sample(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def errors_of(call, *args, **kwargs) -> dict:
    with pytest.raises(PayloadError) as caught:
        call(*args, **kwargs)
    return caught.value.errors


def test_alertmanager_documented_sample_is_one_group_signal():
    [signal] = parse_alertmanager(sample("alertmanager_probe_failure.json"))
    assert signal.action == "trigger"
    assert signal.key == 'group:{}/{severity="critical"}:{alertname="ProbeFailure"}'
    assert signal.title == "ProbeFailure: BlackBox Probe Failure: https://server.example.org"
    assert signal.severities == ("critical",)
    assert "has been down for over 5m" in signal.description
    assert "http://prometheus.example.org:9090/graph" in signal.description
    assert "http://prometheus.example.org:9093" in signal.description


def test_every_documented_key_is_read_and_the_group_counts_firing_and_resolved():
    [signal] = parse_alertmanager(sample("alertmanager_documented_format.json"))
    assert signal.action == "trigger"
    assert signal.details["firing"] == 1
    assert signal.details["resolved"] == 1
    assert signal.severities == ("warning",)
    assert "[resolved] DiskFull: Disk 90% full on db-2" in signal.description
    assert "ended: 2026-11-20T08:10:30+00:00" in signal.description
    # nanoseconds in startsAt are accepted
    assert "since: 2026-11-20T08:12:30.123456+00:00" in signal.description


def test_resolved_group_resolves():
    data = sample("alertmanager_probe_failure.json")
    data["status"] = "resolved"
    data["alerts"][0]["status"] = "resolved"
    data["alerts"][0]["endsAt"] = "2023-02-06T13:20:00Z"
    [signal] = parse_alertmanager(data)
    assert signal.action == "resolve"


def test_null_common_annotations_zero_end_time_and_unknown_fields_are_fine():
    data = sample("alertmanager_probe_failure.json")
    data["commonAnnotations"] = None
    data["alerts"][0]["annotations"] = None
    data["someFutureField"] = {"nested": [1, 2, 3]}
    data["alerts"][0]["anotherNewField"] = True
    [signal] = parse_alertmanager(data)
    assert signal.title == "ProbeFailure"
    assert "ended:" not in signal.description
    assert parse_time("0001-01-01T00:00:00Z") is None


def test_fingerprint_grouping_gives_one_signal_per_alert():
    signals = parse_alertmanager(
        sample("alertmanager_documented_format.json"), grouping=FINGERPRINT
    )
    assert [(s.key, s.action) for s in signals] == [
        ("fingerprint:5f1c2d3e4a5b6c7d", "trigger"),
        ("fingerprint:8e9f0a1b2c3d4e5f", "resolve"),
    ]
    assert signals[0].title == "DiskFull: Disk 91% full on db-1"


def test_an_alert_without_fingerprint_gets_a_stable_one_from_its_labels():
    data = sample("alertmanager_probe_failure.json")
    del data["alerts"][0]["fingerprint"]
    first = parse_alertmanager(data, grouping=FINGERPRINT)[0].key
    shuffled = copy.deepcopy(data)
    shuffled["alerts"][0]["labels"] = dict(reversed(list(data["alerts"][0]["labels"].items())))
    assert parse_alertmanager(shuffled, grouping=FINGERPRINT)[0].key == first


def test_signature_changes_only_when_the_firing_alerts_change():
    data = sample("alertmanager_documented_format.json")
    [before] = parse_alertmanager(data)
    data["alerts"][0]["annotations"]["summary"] = "Disk 93% full on db-1"  # same alert
    [same] = parse_alertmanager(data)
    data["alerts"][1]["status"] = "firing"
    [more] = parse_alertmanager(data)
    assert before.signature == same.signature
    assert more.signature != before.signature


def test_grafana_documented_sample_uses_title_and_message():
    [signal] = parse_grafana(sample("grafana_two_firing.json"))
    assert signal.action == "trigger"
    assert signal.title == "[FIRING:2] (blue)"
    assert signal.description.startswith("**Firing**")
    assert signal.key == "group:{}:{}"


def test_grafana_state_stands_in_for_a_missing_status():
    data = sample("grafana_two_firing.json")
    del data["status"]
    data["state"] = "ok"
    [signal] = parse_grafana(data)
    assert signal.action == "resolve"


def test_alertmanager_field_errors_name_every_problem():
    data = sample("alertmanager_probe_failure.json")
    data["version"] = "3"
    data["alerts"][0]["status"] = "burning"
    data["alerts"][0]["labels"]["severity"] = 2
    data["alerts"][0]["startsAt"] = "yesterday"
    data["commonLabels"] = ["not", "an", "object"]
    del data["groupKey"]
    errors = errors_of(parse_alertmanager, data)
    assert set(errors) == {
        "version",
        "groupKey",
        "commonLabels",
        "alerts.0.status",
        "alerts.0.labels.severity",
        "alerts.0.startsAt",
    }


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ([], "body"),
        ("text", "body"),
        ({"version": "4", "groupKey": "k", "status": "firing"}, "alerts"),
        ({"version": "4", "groupKey": "k", "status": "firing", "alerts": {}}, "alerts"),
        ({"version": "4", "groupKey": "k", "alerts": []}, "status"),
        ({"version": 4, "groupKey": "k", "status": "firing", "alerts": []}, "version"),
        ({"version": "4", "groupKey": "k", "status": "firing", "alerts": [7]}, "alerts.0"),
    ],
)
def test_wrong_types_and_missing_fields(body, path):
    assert path in errors_of(parse_alertmanager, body)


def test_nul_bytes_and_lone_surrogates_never_reach_the_database():
    data = sample("alertmanager_probe_failure.json")
    data["commonAnnotations"]["summary"] = "bad\x00byte \ud800 here"
    [signal] = parse_alertmanager(data)
    assert "\x00" not in signal.title
    signal.title.encode("utf-8")  # would raise on a lone surrogate


def test_pagerduty_documented_trigger():
    event = parse_events_v2(sample("pagerduty_trigger.json"))
    assert event.routing_key == "samplekeyhere"
    signal = event.signal
    assert (signal.key, signal.action) == ("samplekeyhere", "trigger")
    assert signal.title == "Example alert on host1.example.com"
    assert signal.severities == ("info",)
    assert "Component: postgres" in signal.description
    assert '"load avg": 0.75' in signal.description
    assert "Link: Link text <https://example.com/>" in signal.description
    assert "Sent by Sample Monitoring Service <https://monitoring.example.com>" in (
        signal.description
    )


@pytest.mark.parametrize("name", ["pagerduty_acknowledge.json", "pagerduty_resolve.json"])
def test_pagerduty_documented_acknowledge_and_resolve(name):
    event = parse_events_v2(sample(name))
    assert event.signal.key == "samplekeyhere"
    assert event.signal.action == name.split("_")[1].removesuffix(".json")


def test_a_trigger_without_dedup_key_gets_one():
    data = sample("pagerduty_trigger.json")
    del data["dedup_key"]
    event = parse_events_v2(data, new_key=lambda: "generated-key")
    assert event.signal.key == "generated-key"


def test_pagerduty_errors_are_a_list_of_sentences():
    data = {
        "routing_key": "samplekeyhere",
        "event_action": "trigger",
        "payload": {"summary": "", "severity": "fatal", "timestamp": "soon"},
    }
    with pytest.raises(PayloadError) as caught:
        parse_events_v2(data)
    messages = caught.value.messages()
    assert "'payload.summary' This field may not be blank." in messages
    assert "'payload.source' This field is required." in messages
    assert any(m.startswith("'payload.severity' Must be one of") for m in messages)
    assert "'payload.timestamp' Expected an RFC 3339 date-time." in messages


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"routing_key": "k", "event_action": "resolve"}, "dedup_key"),
        ({"routing_key": "k", "event_action": "explode", "dedup_key": "d"}, "event_action"),
        ({"event_action": "resolve", "dedup_key": "d"}, "routing_key"),
        ({"routing_key": "k", "event_action": "trigger"}, "payload"),
        ({"routing_key": "k", "event_action": "resolve", "dedup_key": "x" * 256}, "dedup_key"),
        ({"routing_key": 5, "event_action": "resolve", "dedup_key": "d"}, "routing_key"),
    ],
)
def test_pagerduty_missing_and_wrong_fields(body, path):
    assert path in errors_of(parse_events_v2, body)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["critical"], "P1"),
        (["warning", "critical"], "P1"),
        (["info"], "P3"),
        (["page"], "P0"),  # mapped by the integration
        (["high"], "P1"),  # not mapped, but a severity name itself
        (["whatever"], "P2"),  # the default
        ([], "P2"),
    ],
)
def test_severity_mapping(values, expected):
    mapping = {"critical": "P1", "warning": "P3", "info": "P3", "PAGE": "P0"}
    assert map_severity(values, mapping, "P2") == expected
