"""Fill the stored clock summary (queues, metrics) for incidents recorded before it existed."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from escalations.sla.services import sla_refresh
from incidents.models import Incident


class Command(BaseCommand):
    help = (
        "Recompute every incident's stored SLA columns (next check, warning and due "
        "instants, breach flags). Safe to run again; run once after upgrading."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, batch: int, **options):
        now = timezone.now()
        ids = list(
            Incident.objects.filter(policy__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), batch):
            with transaction.atomic():
                incidents = (
                    Incident.objects.select_for_update(of=("self",))
                    .select_related("policy")
                    .filter(pk__in=ids[start : start + batch])
                )
                for incident in incidents:
                    sla_refresh(incident=incident, now=now)
        self.stdout.write(f"Refreshed the SLA columns of {len(ids)} incident(s).")
