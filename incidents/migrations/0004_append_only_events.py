"""The database itself refuses to change timeline events.

PostgreSQL refuses UPDATE and DELETE; SQLite refuses UPDATE (its DELETE stays
possible only because Django's test flush uses it; the ORM refuses it anyway).
"""

from django.db import migrations

PG_FORWARD = [
    """
CREATE OR REPLACE FUNCTION incidents_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'incident timeline events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER incidents_event_append_only
    BEFORE UPDATE OR DELETE ON incidents_incidentevent
    FOR EACH ROW EXECUTE FUNCTION incidents_event_append_only()
""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS incidents_event_append_only ON incidents_incidentevent",
    "DROP FUNCTION IF EXISTS incidents_event_append_only()",
]
SQLITE_FORWARD = [
    """
CREATE TRIGGER incidents_event_append_only
BEFORE UPDATE ON incidents_incidentevent
BEGIN SELECT RAISE(ABORT, 'incident timeline events are append-only (UPDATE refused)'); END
"""
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS incidents_event_append_only"]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_seed_catalogue")]
    operations = [migrations.RunPython(forward, backward)]
