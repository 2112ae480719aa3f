from django.db import migrations

WEEKLY_REPORT_EVERY_SECONDS = 15 * 60


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(
        every=WEEKLY_REPORT_EVERY_SECONDS, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Weekly report",
        defaults={"task": "notifications.tasks.send_weekly_reports", "interval": every,
                  "expire_seconds": WEEKLY_REPORT_EVERY_SECONDS,
                  "description": "Sends last week's report to each subscriber once their "
                                 "Monday morning has come (once per subscriber and week)."},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="Weekly report").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_report_subscriptions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
