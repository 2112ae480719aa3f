from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0007_roles_product_customer_success"),
        ("escalations", "0004_review_permissions_and_indexes"),
        ("notifications", "0005_report_subscriptions"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
