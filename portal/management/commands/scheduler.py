"""`manage.py scheduler`: the sweep timer, independent of the broker."""

from django.core.management.base import BaseCommand

from portal.scheduler import Scheduler


class Command(BaseCommand):
    help = (
        "Run the SLA sweep every SLA_SWEEP_INTERVAL seconds and the follow-up reminder "
        "sweep every REMINDER_SWEEP_INTERVAL seconds (and the on-call shift-start and "
        "coverage-gap checks every ONCALL_SHIFT_SWEEP_INTERVAL and "
        "ONCALL_COVERAGE_SWEEP_INTERVAL seconds), directly against the database "
        "(no broker involved). SIGTERM or Ctrl-C stops it after the sweep in progress."
    )

    def handle(self, *args, **options):
        Scheduler().run()
