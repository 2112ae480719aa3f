from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    # Customer-facing incidents notify these groups; without them nobody heard.
    dependencies = [
        ("portal", "0006_roles_directory"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
