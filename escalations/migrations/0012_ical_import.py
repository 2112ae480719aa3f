"""Imported on-call schedules (issue 18, "bring schedules in"): where a schedule's layers come
from, its feed and the last import; beat reads URL-backed feeds again every
ICAL_REFRESH_INTERVAL seconds (in a worker, not the scheduler: a slow feed must never hold
up an SLA sweep)."""

from django.conf import settings
from django.db import migrations, models


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    seconds = max(60, int(settings.ICAL_REFRESH_INTERVAL))
    every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="iCal schedule refresh",
        defaults={
            "task": "escalations.tasks.refresh_ical_schedules",
            "interval": every,
            "expire_seconds": seconds,
            "description": "Reads the feeds of imported on-call schedules again.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="iCal schedule refresh"
    ).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('escalations', '0011_override_requests'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.AddField(
            model_name='oncallschedule',
            name='import_error',
            field=models.TextField(blank=True, verbose_name='last refresh error'),
        ),
        migrations.AddField(
            model_name='oncallschedule',
            name='import_problems',
            field=models.JSONField(blank=True, default=list, verbose_name='problems of the last import'),
        ),
        migrations.AddField(
            model_name='oncallschedule',
            name='imported_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last imported'),
        ),
        migrations.AddField(
            model_name='oncallschedule',
            name='source',
            field=models.CharField(choices=[('manual', 'layers edited here'), ('ical', 'imported from iCal')], default='manual', max_length=10, verbose_name='source'),
        ),
        migrations.AddField(
            model_name='oncallschedule',
            name='source_url',
            field=models.URLField(blank=True, help_text="An imported schedule's iCal feed, read again every few hours.", max_length=2000, verbose_name='feed address'),
        ),
        migrations.RunPython(schedule, unschedule),
    ]
