from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0010_roles_integrations"),
        ("escalations", "0008_oncall_schedules"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
