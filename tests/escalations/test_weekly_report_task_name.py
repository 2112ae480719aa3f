"""The weekly report task lives in escalations but keeps the name beat knows it by."""

from django_celery_beat.models import PeriodicTask

from escalations.tasks import send_weekly_reports
from portal.celery import app

NAME = "notifications.tasks.send_weekly_reports"


def test_the_task_keeps_its_registered_name():
    assert send_weekly_reports.name == NAME
    assert app.tasks[NAME].run is send_weekly_reports.run


def test_the_scheduled_row_names_a_registered_task(db):
    task = PeriodicTask.objects.get(name="Weekly report")
    assert task.task in app.tasks
