"""Starting channels and categories: a managed list, edited in the admin later."""

from django.db import migrations

CHANNELS = [
    ("Test", "TEST", "Failing tests and CI pipelines."),
    ("Runtime", "RUNTIME", "Production and staging runtime problems."),
    ("Customer", "CUSTOMER", "Reported by a customer (support tickets, email)."),
    ("Security", "SECURITY", "Security reports and findings."),
    ("Monitoring", "MONITORING", "Opened by alerting systems."),
]
CATEGORIES = [
    "Bug",
    "Performance",
    "Configuration",
    "Integration",
    "Access and authentication",
    "Data integrity",
    "How-to question",
    "Infrastructure",
    "Security",
]


def seed(apps, schema_editor):
    Channel = apps.get_model("incidents", "Channel")
    Category = apps.get_model("incidents", "Category")
    for name, code, description in CHANNELS:
        Channel.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
    for name in CATEGORIES:
        Category.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
