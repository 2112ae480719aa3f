from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0008_roles_review"),
        ("escalations", "0005_reviews_war_rooms_vendor_cases"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
