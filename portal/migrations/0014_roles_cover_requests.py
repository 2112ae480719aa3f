from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0013_user_feed_generation"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
