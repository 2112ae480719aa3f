"""Alert payloads from monitoring systems, read into plain signals. Pure: no ORM.

Three formats:
- Prometheus Alertmanager's webhook (payload version 4),
- Grafana alerting's webhook (the same shape plus `state`, `title`, `message`),
- PagerDuty's Events API v2 (`routing_key`, `event_action`, `dedup_key`, `payload`).

Each parser checks only the fields it uses (unknown fields are ignored, as
Alertmanager and Grafana add fields over time) and raises `PayloadError` with every
problem at once, keyed by a dotted path, e.g. `alerts.0.status`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from incidents.rules import Severity

TRIGGER = "trigger"
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"

GROUP_KEY = "group_key"
FINGERPRINT = "fingerprint"

EVENTS_V2_ACTIONS = (TRIGGER, ACKNOWLEDGE, RESOLVE)
EVENTS_V2_SEVERITIES = ("critical", "error", "warning", "info")
MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_KEY = 255  # Events API v2's dedup_key limit
MAX_ALERTS_DESCRIBED = 20


class PayloadError(ValueError):
    """The payload cannot be used; `errors` maps a dotted path to its problems."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))

    def messages(self) -> list[str]:
        """Events API v2 style: one sentence per problem."""
        return [f"'{path}' {text}" for path, texts in self.errors.items() for text in texts]


@dataclass(frozen=True)
class AlertSignal:
    """One thing to do to one alert key: open/update, acknowledge or resolve."""

    key: str
    action: str  # trigger | acknowledge | resolve
    title: str = ""
    description: str = ""
    severities: tuple[str, ...] = ()  # raw values (label values or Events API severities)
    signature: str = ""  # same firing alerts and severities -> same signature
    summary: str = ""  # one line for the timeline when the content changes
    details: Mapping[str, object] = field(default_factory=dict)


# --- helpers ------------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Text a database can store: no NUL bytes, no lone surrogates."""
    value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _shorten(text: str, limit: int) -> str:
    text = clean_text(text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def parse_time(value: str) -> datetime | None:
    """RFC 3339 (nanoseconds allowed); Go's zero time "0001-01-01T00:00:00Z" is None."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.year <= 1:
        return None
    return moment


def digest(text: str) -> str:
    return hashlib.sha256(clean_text(text).encode("utf-8")).hexdigest()


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable key for an alert without a `fingerprint` (older Alertmanagers)."""
    return digest(json.dumps(sorted(labels.items())))[:16]


class _Checker:
    """Collects every problem with a payload before giving up."""

    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise PayloadError(self.errors)

    def obj(self, data, path: str, *, required: bool = True, nullable: bool = False):
        if data is None and (nullable or not required):
            return {}
        if not isinstance(data, dict):
            self.add(path, "This field is required." if data is None else "Expected an object.")
            return None
        return data

    def string_map(self, data, path: str, *, required: bool = False) -> dict[str, str]:
        data = self.obj(data, path, required=required, nullable=not required)
        if data is None:
            return {}
        result = {}
        for name, value in data.items():
            if not isinstance(value, str):
                self.add(f"{path}.{name}", "Expected a string.")
                continue
            result[clean_text(name)] = clean_text(value)
        return result

    def string(self, data: Mapping, name: str, path: str, *, required=False, choices=None):
        value = data.get(name)
        where = f"{path}.{name}" if path else name
        if value is None:
            if required:
                self.add(where, "This field is required.")
            return None
        if not isinstance(value, str):
            self.add(where, "Expected a string.")
            return None
        value = clean_text(value)
        if required and not value.strip():
            self.add(where, "This field may not be blank.")
            return None
        if choices is not None and value not in choices:
            self.add(where, f"Must be one of: {', '.join(choices)}.")
            return None
        return value

    def time(self, data: Mapping, name: str, path: str) -> datetime | None:
        value = self.string(data, name, path)
        if not value:
            return None
        try:
            return parse_time(value)
        except ValueError:
            self.add(f"{path}.{name}" if path else name, "Expected an RFC 3339 date-time.")
            return None


# --- Alertmanager and Grafana ------------------------------------------------------------------


@dataclass(frozen=True)
class _Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    fingerprint: str
    generator_url: str
    extra_links: tuple[tuple[str, str], ...] = ()


def _read_alerts(check: _Checker, raw_alerts) -> list[_Alert]:
    alerts = []
    if raw_alerts is None:
        check.add("alerts", "This field is required.")
        return alerts
    if not isinstance(raw_alerts, list):
        check.add("alerts", "Expected a list.")
        return alerts
    for index, raw in enumerate(raw_alerts):
        path = f"alerts.{index}"
        raw = check.obj(raw, path)
        if raw is None:
            continue
        status = check.string(raw, "status", path, required=True, choices=("firing", "resolved"))
        labels = check.string_map(raw.get("labels"), f"{path}.labels")
        annotations = check.string_map(raw.get("annotations"), f"{path}.annotations")
        starts_at = check.time(raw, "startsAt", path)
        ends_at = check.time(raw, "endsAt", path)
        fingerprint = check.string(raw, "fingerprint", path) or ""
        generator_url = check.string(raw, "generatorURL", path) or ""
        links = []
        for name, label in (
            ("silenceURL", "Silence"),
            ("dashboardURL", "Dashboard"),
            ("panelURL", "Panel"),
        ):
            url = raw.get(name)
            if isinstance(url, str) and url:
                links.append((label, clean_text(url)))
        if status is None:
            continue
        alerts.append(
            _Alert(
                status=status,
                labels=labels,
                annotations=annotations,
                starts_at=starts_at,
                ends_at=ends_at,
                fingerprint=fingerprint or labels_fingerprint(labels),
                generator_url=generator_url,
                extra_links=tuple(links),
            )
        )
    return alerts


def _alert_name(alert: _Alert) -> str:
    return alert.labels.get("alertname", "")


def _alert_title(alert: _Alert) -> str:
    summary = _one_line(alert.annotations.get("summary", "") or alert.annotations.get("title", ""))
    name = _alert_name(alert)
    if summary and name and name.lower() not in summary.lower():
        return _shorten(f"{name}: {summary}", MAX_TITLE)
    return _shorten(summary or name or "Alert", MAX_TITLE)


def _describe_alert(alert: _Alert) -> str:
    lines = [f"[{alert.status}] {_alert_title(alert)}"]
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    if labels:
        lines.append(f"  labels: {labels}")
    for name in ("description", "message", "runbook_url"):
        if alert.annotations.get(name):
            lines.append(f"  {name.replace('_', ' ')}: {alert.annotations[name].strip()}")
    if alert.starts_at:
        lines.append(f"  since: {alert.starts_at.isoformat()}")
    if alert.ends_at and alert.status == "resolved":
        lines.append(f"  ended: {alert.ends_at.isoformat()}")
    if alert.generator_url:
        lines.append(f"  source: {alert.generator_url}")
    lines.extend(f"  {label.lower()}: {url}" for label, url in alert.extra_links)
    return "\n".join(lines)


def _signature(alerts: Iterable[_Alert], severity_label: str) -> str:
    firing = sorted(
        (a.fingerprint, a.labels.get(severity_label, "")) for a in alerts if a.status == "firing"
    )
    return digest(json.dumps(firing))


def _severities(alerts: Iterable[_Alert], severity_label: str, common: Mapping[str, str]):
    values = [a.labels.get(severity_label, "") for a in alerts if a.status == "firing"]
    values = [v for v in values if v] or [common.get(severity_label, "")]
    return tuple(v for v in values if v)


def parse_alertmanager(
    data, *, grouping: str = GROUP_KEY, severity_label: str = "severity", grafana: bool = False
) -> list[AlertSignal]:
    """Signals from an Alertmanager (or Grafana) webhook body.

    GROUP_KEY: one signal for the group; `status` firing opens or updates its
    incident, resolved resolves it. FINGERPRINT: one signal per alert.
    """
    check = _Checker()
    data = check.obj(data, "body")
    check.raise_if_any()
    if not grafana:
        version = check.string(data, "version", "", required=True)
        if version is not None and version != "4":
            check.add("version", "Only webhook payload version 4 is supported.")
    status = check.string(data, "status", "", choices=("firing", "resolved"))
    state = check.string(data, "state", "") if grafana else None
    if status is None and "status" not in check.errors:
        if grafana and state in ("alerting", "ok"):
            status = "firing" if state == "alerting" else "resolved"
        elif grafana and state is not None:
            check.add("state", "Must be one of: alerting, ok.")
        else:
            check.add("status", "This field is required.")
    group_key = check.string(data, "groupKey", "", required=not grafana)
    group_labels = check.string_map(data.get("groupLabels"), "groupLabels")
    common_labels = check.string_map(data.get("commonLabels"), "commonLabels")
    common_annotations = check.string_map(data.get("commonAnnotations"), "commonAnnotations")
    external_url = check.string(data, "externalURL", "") or ""
    receiver = check.string(data, "receiver", "") or ""
    title = check.string(data, "title", "") if grafana else None
    message = check.string(data, "message", "") if grafana else None
    truncated = data.get("truncatedAlerts")
    if truncated is not None and (not isinstance(truncated, int) or isinstance(truncated, bool)):
        check.add("truncatedAlerts", "Expected an integer.")
        truncated = None
    alerts = _read_alerts(check, data.get("alerts"))
    check.raise_if_any()

    if grouping == FINGERPRINT:
        return [
            AlertSignal(
                key=f"fingerprint:{alert.fingerprint}",
                action=TRIGGER if alert.status == "firing" else RESOLVE,
                title=_alert_title(alert),
                description=_shorten(_describe_alert(alert), MAX_DESCRIPTION),
                severities=tuple(v for v in [alert.labels.get(severity_label) or ""] if v),
                signature=_signature([alert], severity_label),
                summary=f"{_alert_title(alert)}: {alert.status}",
                details={"fingerprint": alert.fingerprint, "labels": alert.labels},
            )
            for alert in alerts
        ]

    if not group_key:
        # Grafana without a groupKey: the group is what its labels say it is.
        group_key = f"{receiver}:{json.dumps(sorted(group_labels.items()))}"
    firing = [a for a in alerts if a.status == "firing"]
    if title and title.strip():
        headline = _shorten(_one_line(title), MAX_TITLE)
    else:
        summary = _one_line(common_annotations.get("summary", ""))
        name = common_labels.get("alertname") or (
            _alert_name(firing[0]) if firing else (_alert_name(alerts[0]) if alerts else "")
        )
        if summary and name and name.lower() not in summary.lower():
            headline = f"{name}: {summary}"
        else:
            headline = summary or name or (_alert_title(alerts[0]) if alerts else "Alert group")
        if len(firing) > 1 and not summary:
            headline = f"{headline} ({len(firing)} alerts)"
        headline = _shorten(headline, MAX_TITLE)
    parts = []
    if message and message.strip():
        parts.append(message.strip())
    else:
        if common_annotations.get("description") and len(alerts) > 1:
            parts.append(common_annotations["description"].strip())
        parts.extend(_describe_alert(a) for a in alerts[:MAX_ALERTS_DESCRIBED])
        if len(alerts) > MAX_ALERTS_DESCRIBED:
            parts.append(f"... and {len(alerts) - MAX_ALERTS_DESCRIBED} more alerts.")
    if truncated:
        parts.append(f"The sender left out {truncated} more alerts (max_alerts).")
    if external_url:
        parts.append(f"Sent by {external_url}")
    resolved = len(alerts) - len(firing)
    return [
        AlertSignal(
            key=f"group:{group_key}",
            action=TRIGGER if status == "firing" else RESOLVE,
            title=headline,
            description=_shorten("\n\n".join(parts), MAX_DESCRIPTION),
            severities=_severities(alerts, severity_label, common_labels),
            signature=_signature(alerts, severity_label),
            summary=f"{headline}: {len(firing)} firing, {resolved} resolved",
            details={
                "group_key": _shorten(group_key, 500),
                "receiver": receiver,
                "firing": len(firing),
                "resolved": resolved,
                "group_labels": group_labels,
            },
        )
    ]


def parse_grafana(data, *, grouping: str = GROUP_KEY, severity_label: str = "severity"):
    return parse_alertmanager(data, grouping=grouping, severity_label=severity_label, grafana=True)


# --- Events API v2 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventV2:
    routing_key: str
    signal: AlertSignal


def routing_key_of(data) -> str:
    """The routing key, checked only for shape (its owner is looked up by the caller)."""
    check = _Checker()
    data = check.obj(data, "body")
    check.raise_if_any()
    key = check.string(data, "routing_key", "", required=True)
    check.raise_if_any()
    return key


def parse_events_v2(data, *, new_key=None) -> EventV2:
    """An Events API v2 event. A trigger without `dedup_key` gets a fresh one."""
    check = _Checker()
    data = check.obj(data, "body")
    check.raise_if_any()
    routing_key = check.string(data, "routing_key", "", required=True)
    action = check.string(data, "event_action", "", required=True, choices=EVENTS_V2_ACTIONS)
    dedup_key = check.string(data, "dedup_key", "")
    if dedup_key is not None and len(dedup_key) > MAX_KEY:
        check.add("dedup_key", f"Ensure this field has no more than {MAX_KEY} characters.")
    if action in (ACKNOWLEDGE, RESOLVE) and not (dedup_key or "").strip():
        check.add("dedup_key", "This field is required to acknowledge or resolve.")
    payload = {}
    if action == TRIGGER:
        payload = check.obj(data.get("payload"), "payload") or {}
        check.string(payload, "summary", "payload", required=True)
        check.string(payload, "source", "payload", required=True)
        check.string(payload, "severity", "payload", required=True, choices=EVENTS_V2_SEVERITIES)
        for name in ("component", "group", "class"):
            check.string(payload, name, "payload")
        check.time(payload, "timestamp", "payload")
        details = payload.get("custom_details")
        if details is not None and not isinstance(details, dict | list | str | int | float):
            check.add("payload.custom_details", "Expected an object.")
    for name in ("client", "client_url"):
        check.string(data, name, "")
    for name in ("links", "images"):
        if data.get(name) is not None and not isinstance(data.get(name), list):
            check.add(name, "Expected a list.")
    check.raise_if_any()

    key = (dedup_key or "").strip() or (new_key or (lambda: uuid.uuid4().hex))()
    if action != TRIGGER:
        return EventV2(routing_key, AlertSignal(key=key, action=action))
    summary = clean_text(payload["summary"])
    lines = [summary.strip()]
    for label, name in (
        ("Source", "source"),
        ("Component", "component"),
        ("Group", "group"),
        ("Class", "class"),
        ("Severity", "severity"),
        ("Timestamp", "timestamp"),
    ):
        if payload.get(name):
            lines.append(f"{label}: {clean_text(payload[name])}")
    if payload.get("custom_details") not in (None, {}, []):
        details = json.dumps(payload["custom_details"], indent=2, ensure_ascii=False)
        lines.append("Details:\n" + clean_text(details))
    for link in data.get("links") or []:
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            text = link.get("text") if isinstance(link.get("text"), str) else link["href"]
            lines.append(f"Link: {clean_text(text)} <{clean_text(link['href'])}>")
    if data.get("client"):
        client = clean_text(data["client"])
        if data.get("client_url"):
            client += f" <{clean_text(data['client_url'])}>"
        lines.append(f"Sent by {client}")
    title = _shorten(_one_line(summary), MAX_TITLE)
    return EventV2(
        routing_key,
        AlertSignal(
            key=key,
            action=TRIGGER,
            title=title,
            description=_shorten("\n".join(lines), MAX_DESCRIPTION),
            severities=(payload["severity"],),
            signature=digest(json.dumps([title, payload["severity"]])),
            summary=f"{title} ({payload['severity']})",
            details={"source": _shorten(clean_text(payload["source"]), 255)},
        ),
    )


# --- severity -----------------------------------------------------------------------------------


def map_severity(values: Iterable[str], mapping: Mapping[str, str], default: str) -> str:
    """The most severe of `values` after the integration's mapping.

    A value missing from the mapping may name a severity itself ("P1", "high",
    "sev2"); anything else counts as `default`.
    """
    lowered = {str(k).strip().lower(): v for k, v in (mapping or {}).items()}
    best: Severity | None = None
    for value in values:
        mapped = lowered.get(str(value).strip().lower(), value)
        try:
            severity = Severity.parse(mapped)
        except ValueError:
            continue
        if best is None or severity.rank < best.rank:
            best = severity
    return (best or Severity.parse(default)).value
