from django.core.management.base import BaseCommand

from escalations.engine.services import sla_sweep


class Command(BaseCommand):
    help = "Run one SLA sweep now, through the same code as the beat task."

    def handle(self, *args, **options):
        result = sla_sweep()
        if not result:
            self.stdout.write("Nothing was due.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Checked {result.get('incidents', 0)} incident(s): {result.get('fired', 0)} "
                f"threshold(s) fired, {result.get('escalated', 0)} escalation(s), "
                f"{result.get('notifications', 0)} notification(s) queued."
            )
        )
