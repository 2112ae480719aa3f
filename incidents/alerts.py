"""Alert ingestion: integrations, their secrets and rate limits, and the services that
turn alert signals (incidents.alert_payloads) into incidents.

A trigger for a key with an open incident only counts (and notes a change of the
firing alerts on the timeline); the first trigger claims the key with a row that a
partial unique constraint allows once, so two concurrent first alerts open one
incident. Incidents are opened, acknowledged and resolved through
incidents.services, like everything else.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.alert_payloads import (
    ACKNOWLEDGE,
    RESOLVE,
    TRIGGER,
    AlertSignal,
    digest,
    map_severity,
)
from incidents.models import (
    AlertDedup,
    Channel,
    Component,
    EventKind,
    Incident,
    Integration,
    IntegrationKind,
    IntegrationRateWindow,
    default_severity_map,
)
from incidents.permissions import require
from incidents.rules import OPEN_STATUSES, Severity, Status
from portal.db import asynchronous_commit

TOKEN_BYTES = 24  # 32 URL-safe characters: the length of an Events API v2 routing key
# Compared against when no integration matches, so a miss costs what a hit costs.
_NO_MATCH = hashlib.sha256(b"no integration").hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def integration_url(integration: Integration, token: str) -> str:
    """Where the monitoring system posts: the secret is in the URL (or is the routing key)."""
    if integration.kind == IntegrationKind.EVENTS_V2:
        return settings.SITE_URL + reverse("alerts-events-v2")
    return settings.SITE_URL + reverse("alerts-webhook", args=[token])


@dataclass(frozen=True)
class NewSecret:
    integration: Integration
    token: str

    @property
    def url(self) -> str:
        return integration_url(self.integration, self.token)


def _new_token() -> tuple[str, str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token), token[-4:]


def check_severity_map(severity_map) -> None:
    """A mapping of label values to severities (P0-P3 or their other names), or
    ValidationError (the service and the admin form check alike)."""
    if not isinstance(severity_map, dict):
        raise ValidationError("Give a mapping of label values to severities.")
    for value, severity in severity_map.items():
        try:
            Severity.parse(severity)
        except ValueError:
            raise ValidationError(
                f"{value!r} maps to {severity!r}, which is no severity."
            ) from None


def _check_settings(*, kind: str, name: str, severity_map, default_severity: str) -> None:
    errors = {}
    if kind not in IntegrationKind.values:
        errors["kind"] = f"Pick one of: {', '.join(IntegrationKind.values)}."
    if not (name or "").strip():
        errors["name"] = "Give the integration a name."
    elif Integration.objects.filter(name=name.strip()).exists():
        errors["name"] = "An integration with this name exists."
    try:
        check_severity_map(severity_map)
    except ValidationError as error:
        errors["severity_map"] = error.messages
    try:
        Severity.parse(default_severity)
    except ValueError as error:
        errors["default_severity"] = str(error)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def integration_create(
    *,
    kind: str,
    name: str,
    actor=None,
    channel: Channel | None = None,
    component: Component | None = None,
    grouping: str = "group_key",
    severity_label: str = "severity",
    severity_map: dict | None = None,
    default_severity: str = "P2",
    rate_limit: int = 300,
    rate_window: int = 300,
) -> NewSecret:
    """A new integration and its secret; the secret is returned here and never again."""
    require(actor, "integration.create")
    severity_map = default_severity_map() if severity_map is None else severity_map
    _check_settings(
        kind=kind, name=name, severity_map=severity_map, default_severity=default_severity
    )
    channel = channel or Channel.objects.filter(code="MONITORING").first()
    if channel is None:
        raise ValidationError({"channel": "Pick the channel of the incidents it opens."})
    if rate_limit < 1 or rate_window < 1:
        raise ValidationError({"rate_limit": "The rate limit and its window must be positive."})
    token, hashed, hint = _new_token()
    integration = Integration.objects.create(
        kind=kind,
        name=name.strip(),
        token_hash=hashed,
        token_hint=hint,
        channel=channel,
        component=component,
        grouping=grouping,
        severity_label=severity_label,
        severity_map=severity_map,
        default_severity=Severity.parse(default_severity).value,
        rate_limit=rate_limit,
        rate_window=rate_window,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    return NewSecret(integration, token)


@transaction.atomic
def integration_rotate_secret(*, integration: Integration, actor=None) -> NewSecret:
    """A new secret; the old URL (or routing key) stops working at once."""
    require(actor, "integration.rotate_secret")
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    if not integration.is_active:
        raise ValidationError("A revoked integration gets no new secret; create a new one.")
    token, integration.token_hash, integration.token_hint = _new_token()
    integration.save(update_fields=["token_hash", "token_hint"])
    return NewSecret(integration, token)


@transaction.atomic
def integration_revoke(
    *, integration: Integration, actor=None, now: datetime | None = None
) -> Integration:
    """Its URL answers 404 from now on; the incidents it opened stay as they are."""
    require(actor, "integration.revoke")
    now = now or timezone.now()
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    if not integration.is_active:
        raise ValidationError("The integration is revoked already.")
    integration.is_active = False
    integration.revoked_at = now
    integration.save(update_fields=["is_active", "revoked_at"])
    return integration


def integration_for_token(token: str, *, kinds: tuple[str, ...]) -> Integration | None:
    """The active integration with this secret, or None, taking the same path either way.

    The lookup is by the secret's SHA-256 through a unique index, and the final
    comparison is constant-time, so unknown, revoked and wrong-kind secrets are
    indistinguishable by timing.
    """
    hashed = token_hash(token)
    # At most one row (a unique index): no ORDER BY, no joins; the channel and
    # component are read only when an incident is opened.
    found = list(Integration.objects.filter(token_hash=hashed).order_by()[:1])
    integration = found[0] if found else None
    expected = integration.token_hash if integration is not None else _NO_MATCH
    matches = hmac.compare_digest(expected, hashed)
    if not matches or not integration.is_active or integration.kind not in kinds:
        return None
    return integration


# --- rate limit -------------------------------------------------------------------------------


def counters_without_disk_wait():
    """While only counters change (the rate window, repeats of an open alert), commits
    do not wait for the WAL flush.

    A crash of PostgreSQL itself within a fraction of a second could lose a few
    counts: a few more requests let through, a repeat not counted; never an
    incident, a resolution or a timeline entry, which are written after this block
    with ordinary commits. It saves a disk flush on each of the most common
    requests. Outside PostgreSQL or inside a transaction it changes nothing.
    """
    return asynchronous_commit()


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    hits: int
    retry_after: int  # seconds until the window ends


def rate_limit_hit(*, integration: Integration, now: datetime | None = None) -> RateDecision:
    """Count one request in the integration's current fixed window.

    One atomic upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING): every
    process shares the count. Call it outside the ingestion's transaction (and
    inside `counters_without_disk_wait`), so the window row is locked for one
    statement, not for the whole ingestion.
    """
    now = now or timezone.now()
    window = integration.rate_window
    epoch = now.timestamp()
    period = int(epoch // window)
    q = connection.ops.quote_name
    table = q(IntegrationRateWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({q('integration_id')}, {q('period')}, {q('hits')}) "
            f"VALUES (%s, %s, 1) ON CONFLICT ({q('integration_id')}, {q('period')}) "
            f"DO UPDATE SET {q('hits')} = {table}.{q('hits')} + 1 RETURNING {q('hits')}",
            [integration.pk, period],
        )
        hits = cursor.fetchone()[0]
    if hits == 1:
        # A new window: forget the old ones.
        IntegrationRateWindow.objects.filter(integration=integration, period__lt=period).delete()
    retry_after = max(1, math.ceil((period + 1) * window - epoch))
    return RateDecision(hits <= integration.rate_limit, hits, retry_after)


# --- ingestion --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertOutcome:
    key: str
    action: str  # opened | updated | acknowledged | resolved | ignored
    incident: str | None  # reference

    def as_dict(self) -> dict:
        return {"key": self.key, "action": self.action, "incident": self.incident}


def _open_key(integration: Integration, key_hash: str) -> AlertDedup | None:
    """The key's open row, locked; its incident is read only if it is needed."""
    found = list(
        AlertDedup.objects.select_for_update()
        .filter(integration=integration, key_hash=key_hash, is_open=True)
        .order_by()[:1]
    )
    return found[0] if found else None


def _close_key(dedup: AlertDedup, now: datetime) -> None:
    AlertDedup.objects.filter(pk=dedup.pk).update(is_open=False, resolved_at=now, last_at=now)


def _alert_event(incident: Incident, integration: Integration, signal: AlertSignal, now, body):
    services.incident_event_append(
        incident=incident,
        kind=EventKind.ALERT,
        at=now,
        body=body,
        data={
            "integration": integration.name,
            "integration_id": integration.pk,
            "key": signal.key[:500],
            "action": signal.action,
            **{k: v for k, v in signal.details.items() if k != "labels"},
        },
    )


def _claim(integration: Integration, signal: AlertSignal, key_hash: str, severity: str, now):
    """Insert the key's open row; None if another request holds it (it opened the incident)."""
    try:
        with transaction.atomic():
            return AlertDedup.objects.create(
                integration=integration,
                key=signal.key,
                key_hash=key_hash,
                signature=signal.signature,
                severity=severity,
                first_at=now,
                last_at=now,
            )
    except IntegrityError:
        return None


_OPEN_STATUS_VALUES = [s.value for s in OPEN_STATUSES]


def _count_repeat(integration: Integration, key_hash: str, signature: str, now) -> str | None:
    """The common case in one statement: the key is open, its incident too, and the
    firing alerts are the same. Counts it and returns the incident's reference; None
    when anything else applies (the caller then takes the locked path).

    The UPDATE locks the key's row, so it queues behind a concurrent resolve and then
    re-checks `is_open`; an unclaimed or uncommitted key is not visible to it.
    """
    q = connection.ops.quote_name
    keys, incidents = q(AlertDedup._meta.db_table), q(Incident._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {keys} SET triggers = triggers + 1, last_at = %s "
            f"WHERE integration_id = %s AND key_hash = %s AND is_open = %s AND signature = %s "
            f"AND EXISTS (SELECT 1 FROM {incidents} WHERE {incidents}.id = {keys}.incident_id "
            f"AND {incidents}.status IN ({', '.join(['%s'] * len(_OPEN_STATUS_VALUES))})) "
            f"RETURNING (SELECT reference FROM {incidents} "
            f"WHERE {incidents}.id = {keys}.incident_id)",
            [now, integration.pk, key_hash, True, signature, *_OPEN_STATUS_VALUES],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _trigger(integration: Integration, signal: AlertSignal, now: datetime) -> AlertOutcome:
    key_hash = digest(signal.key)
    severity = map_severity(
        signal.severities, integration.severity_map, integration.default_severity
    )
    for _attempt in range(3):
        dedup = _open_key(integration, key_hash)
        if dedup is not None and dedup.incident is not None and not dedup.incident.is_open:
            # People resolved it while the alert kept firing: this is a new occurrence.
            _close_key(dedup, now)
            dedup = None
        if dedup is not None:
            return _repeat(integration, signal, dedup, severity, now)
        dedup = _claim(integration, signal, key_hash, severity, now)
        if dedup is not None:
            break
        # Lost the race: the winner has committed its row by now; count on it.
    else:  # pragma: no cover - three lost races in a row
        raise RuntimeError(f"could not claim alert key {signal.key!r}")
    incident = services.incident_create(
        actor=None,
        title=signal.title or f"Alert from {integration.name}",
        severity=severity,
        channel=integration.channel,
        component=integration.component,
        description=signal.description,
        now=now,
    )
    AlertDedup.objects.filter(pk=dedup.pk).update(incident=incident)
    _alert_event(
        incident, integration, signal, now, f"Opened by {integration.name}: {signal.summary}"
    )
    return AlertOutcome(signal.key, "opened", incident.reference)


def _repeat(integration, signal, dedup: AlertDedup, severity: str, now) -> AlertOutcome:
    """The same key again: count it; note what changed; raise the severity if it rose."""
    changed = bool(signal.signature) and signal.signature != dedup.signature
    fields = {"triggers": F("triggers") + 1, "last_at": now}
    if changed:
        fields.update(signature=signal.signature, severity=severity)
    AlertDedup.objects.filter(pk=dedup.pk).update(**fields)
    incident = dedup.incident
    if incident is None:  # pragma: no cover - the claim and the incident commit together
        return AlertOutcome(signal.key, "updated", None)
    if changed:
        _alert_event(incident, integration, signal, now, f"Alert changed: {signal.summary}")
        if Severity(severity).rank < Severity(incident.severity).rank:
            services.incident_change_severity(
                incident=incident,
                severity=severity,
                actor=None,
                reason=f"{integration.name} reports a higher severity.",
                now=now,
            )
    return AlertOutcome(signal.key, "updated", incident.reference)


def _resolve(integration: Integration, signal: AlertSignal, now: datetime) -> AlertOutcome:
    dedup = _open_key(integration, digest(signal.key))
    if dedup is None:
        return AlertOutcome(signal.key, "ignored", None)
    _close_key(dedup, now)
    incident = dedup.incident
    if incident is None or not incident.is_open:
        return AlertOutcome(signal.key, "ignored", incident.reference if incident else None)
    services.incident_change_status(
        incident=incident,
        status=Status.RESOLVED.value,
        actor=None,
        note=f"Resolved by {integration.name}: the alert source reports the problem gone.",
        now=now,
    )
    return AlertOutcome(signal.key, "resolved", incident.reference)


def _acknowledge(integration: Integration, signal: AlertSignal, now: datetime) -> AlertOutcome:
    dedup = _open_key(integration, digest(signal.key))
    incident = dedup.incident if dedup else None
    if incident is None or incident.status != Status.NEW:
        return AlertOutcome(signal.key, "ignored", incident.reference if incident else None)
    services.incident_acknowledge(incident=incident, actor=None, now=now)
    return AlertOutcome(signal.key, "acknowledged", incident.reference)


_HANDLERS = {TRIGGER: _trigger, RESOLVE: _resolve, ACKNOWLEDGE: _acknowledge}


def alerts_count_repeat(
    *, integration: Integration, signals: list[AlertSignal], now: datetime | None = None
) -> list[AlertOutcome] | None:
    """The most common request, in one statement: a single trigger repeating an open
    alert key with unchanged content. None when it is anything else (then call
    `alerts_ingest`)."""
    if len(signals) != 1 or signals[0].action != TRIGGER or not signals[0].signature:
        return None
    signal = signals[0]
    now = now or timezone.now()
    reference = _count_repeat(integration, digest(signal.key), signal.signature, now)
    if reference is None:
        return None
    return [AlertOutcome(signal.key, "updated", reference)]


@transaction.atomic
def alerts_ingest(
    *, integration: Integration, signals: list[AlertSignal], now: datetime | None = None
) -> list[AlertOutcome]:
    """Apply one request's signals in one transaction.

    Keys are handled in a fixed order so two requests that touch the same keys lock
    them in the same order (no deadlock between them).
    """
    now = now or timezone.now()
    ordered = sorted(enumerate(signals), key=lambda pair: digest(pair[1].key))
    outcomes: dict[int, AlertOutcome] = {}
    for index, signal in ordered:
        outcomes[index] = _HANDLERS[signal.action](integration, signal, now)
    return [outcomes[index] for index in range(len(signals))]
