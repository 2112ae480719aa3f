"""The SLA and reminder sweeps leave beat: `manage.py scheduler` runs them against the
database on its own clock, so a broker outage no longer delays escalations."""

from django.conf import settings
from django.db import migrations

MOVED = {
    "SLA sweep": ("escalations.tasks.run_sla_sweep", "SLA_SWEEP_INTERVAL"),
    "Follow-up reminders": ("escalations.tasks.run_reminder_sweep", "REMINDER_SWEEP_INTERVAL"),
}


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=list(MOVED)
    ).delete()


def reschedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, setting) in MOVED.items():
        seconds = max(1, int(getattr(settings, setting)))
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "interval": every, "expire_seconds": seconds * 2},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0006_reminder_sweep_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(unschedule, reschedule)]
