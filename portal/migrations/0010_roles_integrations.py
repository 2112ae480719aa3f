from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0009_roles_follow_up"),
        ("incidents", "0012_alert_integrations"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
