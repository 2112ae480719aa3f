"""Beat gets the follow-up reminder sweep (reviews, action items, war rooms, vendor cases)."""

from django.conf import settings
from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    seconds = max(1, int(settings.REMINDER_SWEEP_INTERVAL))
    every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Follow-up reminders",
        defaults={
            "task": "escalations.tasks.run_reminder_sweep",
            "interval": every,
            "expire_seconds": seconds * 2,
            "description": "Reminders for reviews, action items, war-room updates and vendor "
            "cases; reads only next_reminder_at.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="Follow-up reminders"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0005_reviews_war_rooms_vendor_cases"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
