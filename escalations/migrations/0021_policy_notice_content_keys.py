"""Policy notices were once per incident by their rule's position in the policy's list
("notice:<incident>:<severity>:<position>:<channel>:<address>"); a later version that
inserted rules earlier would resend one and silence another. They are now once per
incident by the rule's content ("policy_notice:<incident>:<rule key>:..."). This rewrites
the rows already in the outbox to the new key, reading each position in the policy
version the incident was on when the row was written, so a second raise after the
upgrade does not tell anyone again. A row whose rule can't be found keeps its old key
(at worst that person hears the notice once more)."""

import hashlib
import json

from django.db import migrations

OLD_PREFIX = "notice:"
NEW_PREFIX = "policy_notice:"


def _rule_key(severity: str, item: dict) -> str:
    # Frozen copy of escalations.rules.spec.notice_rule_key (a migration must not
    # change with the code); test_policy_notices checks that the two agree.
    normal = {
        "severity": severity,
        "levels": sorted({int(n) for n in item.get("levels", ())}),
        "groups": sorted(set(item.get("groups", ()))),
        "channels": sorted(set(item.get("channels", ()))),
        "within": int(item.get("within", 0)),
        "reason": " ".join(str(item.get("reason", "")).split()),
    }
    text = json.dumps(normal, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flattened(notices: dict) -> list:
    # The order the spec held them in: by severity key, each severity's as written.
    return [
        (severity, item)
        for severity, items in sorted((notices or {}).items())
        for item in items
    ]


def rekey_policy_notices(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Incident = apps.get_model("incidents", "Incident")
    IncidentEvent = apps.get_model("incidents", "IncidentEvent")
    Policy = apps.get_model("escalations", "Policy")

    def by_label(label):
        name, _, version = (label or "").rpartition(" v")
        if not version.isdigit():
            return None
        return Policy.objects.filter(name=name, version=int(version)).first()

    rows = Notification.objects.filter(kind="policy_notice", dedup_key__startswith=OLD_PREFIX)
    for row in rows.iterator():
        parts = row.dedup_key.split(":", 5)
        if len(parts) < 6 or not parts[1].isdigit() or not parts[3].isdigit():
            continue
        _, incident_pk, severity, position, channel, address = parts
        incident = Incident.objects.filter(pk=int(incident_pk)).first()
        if incident is None:
            continue
        # The version the incident was on when the row was written: the last move before
        # it, else the first move's origin, else the one it is on.
        moves = IncidentEvent.objects.filter(incident=incident, kind="policy_changed")
        before = moves.filter(recorded_at__lte=row.created_at).order_by("-recorded_at", "-id")
        after = moves.filter(recorded_at__gt=row.created_at).order_by("recorded_at", "id")
        if (event := before.first()) is not None:
            policy = by_label(event.data.get("to"))
        elif (event := after.first()) is not None:
            policy = by_label(event.data.get("from"))
        else:
            policy = Policy.objects.filter(pk=incident.policy_id).first()
        if policy is None:
            continue
        rules = _flattened(policy.notices)
        if int(position) >= len(rules) or rules[int(position)][0] != severity:
            continue
        key = _rule_key(*rules[int(position)])
        new = f"{NEW_PREFIX}{incident_pk}:{key}:{channel}:{address}"[:255]
        if Notification.objects.filter(dedup_key=new).exists():
            continue
        row.dedup_key = new
        row.save(update_fields=["dedup_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0020_legal_regulatory_report"),
        ("incidents", "0017_legal_exposure_pr_crisis_flags"),
        ("notifications", "0007_claim_token_and_lease"),
    ]

    operations = [
        migrations.RunPython(rekey_policy_notices, migrations.RunPython.noop),
    ]
