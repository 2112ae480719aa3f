from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_roles"),
        ("escalations", "0001_initial"),
        ("incidents", "0005_policy_and_next_check"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
