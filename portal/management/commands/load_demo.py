from django.core.management.base import BaseCommand, CommandError

from incidents.models import Incident
from portal.demo import load_demo


class Command(BaseCommand):
    help = "Load realistic demo data (accounts, components, people, ~200 incidents with timelines)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=200, help="incidents to create")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (same data)")
        parser.add_argument(
            "--force", action="store_true", help="load even when the database already has incidents"
        )

    def handle(self, *args, count, seed, force, **options):
        if count < 0:
            raise CommandError("--count cannot be negative")
        if Incident.objects.exists() and not force:
            raise CommandError("The database already has incidents; use --force to add more.")
        summary = load_demo(seed=seed, count=count)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {summary.accounts} accounts, {summary.components} components, "
                f"{summary.people} people, {summary.incidents} incidents."
            )
        )
