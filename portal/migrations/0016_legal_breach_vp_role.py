from django.db import migrations

from portal.roles import sync_roles


class Migration(migrations.Migration):
    # Seed 000 "Coordinate with legal if data breach": Legal reads security incidents with
    # data loss; Legal and managers mark and record regulatory reports (seed 002). Seeds
    # 003/004: a VP role (the management chain's last rung, told of Sev 1).
    dependencies = [
        ("portal", "0015_roles_status_page"),
        ("incidents", "0019_legal_breach_permission_report_event"),
        ("escalations", "0020_legal_regulatory_report"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
