"""The database keeps escalation records append-only, and beat gets its sweep.

An escalation's move never changes; its outcome columns (acknowledgement,
decision, de-escalation) go from empty to a value once. PostgreSQL and SQLite
both refuse anything else, and refuse deletes (PostgreSQL) - Django's test flush
uses DELETE on SQLite, where the ORM guard stands alone.
"""


from django.conf import settings
from django.db import migrations

CORE = ["incident_id", "from_level", "to_level", "trigger", "category", "reason", "note",
        "decision_sought", "actor_id", "at", "clock", "sla_percent", "notify_groups",
        "limited_distribution"]
ONCE = [("acknowledged_at", ["acknowledged_at", "acknowledged_by_id"]),
        ("decision_at", ["decision_at", "decision_made", "decision_by_id"]),
        ("de_escalated_at", ["de_escalated_at", "resolution_summary"])]


def _pg_statements():
    core = " OR ".join(f'NEW."{c}" IS DISTINCT FROM OLD."{c}"' for c in CORE)
    once = "\n".join(
        f"""    IF OLD."{flag}" IS NOT NULL AND ({" OR ".join(
            f'NEW."{c}" IS DISTINCT FROM OLD."{c}"' for c in cols)}) THEN
        RAISE EXCEPTION 'escalation outcome {flag} is written once';
    END IF;"""
        for flag, cols in ONCE
    )
    return [f"""
CREATE OR REPLACE FUNCTION escalations_escalation_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'escalations are append-only (DELETE refused)';
    END IF;
    IF {core} THEN
        RAISE EXCEPTION 'escalations are append-only (the move never changes)';
    END IF;
{once}
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""", """
CREATE TRIGGER escalations_escalation_guard
    BEFORE UPDATE OR DELETE ON escalations_escalation
    FOR EACH ROW EXECUTE FUNCTION escalations_escalation_guard()
"""]


def _sqlite_statements():
    core = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in CORE)
    once = " OR ".join(
        f'(OLD."{flag}" IS NOT NULL AND ('
        + " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in cols) + "))"
        for flag, cols in ONCE
    )
    return [f"""
CREATE TRIGGER escalations_escalation_guard BEFORE UPDATE ON escalations_escalation
WHEN {core} OR {once}
BEGIN SELECT RAISE(ABORT, 'escalations are append-only'); END
"""]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": _pg_statements, "sqlite": _sqlite_statements}.get(vendor)
    for statement in statements() if statements else []:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS escalations_escalation_guard ON escalations_escalation",
            params=None)
        schema_editor.execute("DROP FUNCTION IF EXISTS escalations_escalation_guard()",
                              params=None)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS escalations_escalation_guard", params=None)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    seconds = max(1, int(settings.SLA_SWEEP_INTERVAL))
    every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="SLA sweep",
        defaults={"task": "escalations.tasks.run_sla_sweep", "interval": every,
                  "expire_seconds": seconds * 2,
                  "description": "Applies due SLA thresholds; reads only next_check_at."},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="SLA sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0002_escalation_records"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(schedule, unschedule),
    ]
