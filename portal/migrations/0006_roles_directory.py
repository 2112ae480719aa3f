from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_working_hours"),
        ("notifications", "0004_directory_settings_inbound"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
