from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_roles_policies"),
        ("escalations", "0003_escalation_guard_and_sweep_schedule"),
        ("notifications", "0002_drain_schedule"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
