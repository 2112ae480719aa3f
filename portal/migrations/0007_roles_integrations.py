from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0006_roles_directory"),
        ("incidents", "0008_alert_integrations"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
