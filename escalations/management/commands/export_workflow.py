from django.core.management.base import BaseCommand, CommandError

from escalations.models import Policy, PolicyStatus
from escalations.policies.services import policy_spec
from escalations.policies.workflow_yaml import dump_workflow


class Command(BaseCommand):
    help = "Print a policy as workflow YAML that loads back to an identical policy."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--policy-version",
            type=int,
            dest="policy_version",
            help="a version number (default: the active one, else the newest)",
        )

    def handle(self, *args, name, policy_version, **options):

        versions = Policy.objects.filter(name=name)
        if policy_version is not None:
            policy = versions.filter(version=policy_version).first()
        else:
            policy = (
                versions.filter(status=PolicyStatus.ACTIVE).first()
                or versions.order_by("-version").first()
            )
        if policy is None:
            known = ", ".join(sorted(set(Policy.objects.values_list("name", flat=True))))
            raise CommandError(
                f"No policy {name!r}"
                + (f" version {policy_version}" if policy_version else "")
                + f". Known: {known}"
            )
        self.stdout.write(dump_workflow(policy_spec(policy)), ending="")
