"""Seed 004's root-cause categories completed: "product_bugs, performance_issues,
configuration_errors, user_error, feature_gaps". The first three exist since 0003 (Bug,
Performance, Configuration); user error and feature gap are added. Existing rows and the
incidents that use them are kept; a description is only written where there is none."""

from django.db import migrations

ROOT_CAUSES = [
    ("Bug", "A product bug: the software does not do what it should (seed 004: product_bugs)."),
    ("Performance", "Slowness, timeouts or resource exhaustion (seed 004: performance_issues)."),
    (
        "Configuration",
        "A wrong setting or deployment configuration (seed 004: configuration_errors).",
    ),
    (
        "User error",
        "The product works as designed; the user misused or misunderstood it (seed 004: user_error).",
    ),
    ("Feature gap", "The product cannot do what the customer needs yet (seed 004: feature_gaps)."),
]


def complete(apps, schema_editor):
    Category = apps.get_model("incidents", "Category")
    for name, description in ROOT_CAUSES:
        category, _created = Category.objects.get_or_create(
            name=name, defaults={"description": description}
        )
        if not category.description:
            category.description = description
            category.save(update_fields=["description"])


class Migration(migrations.Migration):
    dependencies = [("incidents", "0015_incident_data_loss")]
    # Not undone: incidents may have been filed under the new categories since.
    operations = [migrations.RunPython(complete, migrations.RunPython.noop)]
