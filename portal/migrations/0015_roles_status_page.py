from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    # Seed 002 "Update public status page": team leads and managers publish incidents.
    dependencies = [
        ("portal", "0014_roles_cover_requests"),
        ("incidents", "0018_status_page_public_fields"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
