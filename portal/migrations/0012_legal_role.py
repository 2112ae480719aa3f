from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    # Seed 000: incidents with legal exposure notify Legal; without the group nobody heard.
    dependencies = [
        ("portal", "0011_roles_oncall_schedules"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
