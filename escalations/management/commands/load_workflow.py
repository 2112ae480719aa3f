from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from escalations.models import Policy, PolicyStatus
from escalations.policies import reach
from escalations.policies import services as policies
from escalations.policies.workflow_yaml import WorkflowError, load_workflow_file

PRESETS = Path(__file__).resolve().parents[2] / "workflows"


def resolve(file: str) -> Path:
    """A path, or the name of a preset shipped in escalations/workflows/."""
    path = Path(file)
    if path.exists():
        return path
    preset = PRESETS / f"{file}.yaml"
    if preset.exists():
        return preset
    names = ", ".join(sorted(p.stem for p in PRESETS.glob("*.yaml")))
    raise CommandError(f"No such file: {file} (presets: {names})")


class Command(BaseCommand):
    help = (
        "Load an escalation workflow YAML (seed 001's `escalation:` block and our extensions) "
        "as a new version of a policy. FILE may be a path or a preset name: "
        "support-3-tier, engineering-5-level, p0-p3-matrix. Nothing is loaded on any error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="YAML file or preset name")
        parser.add_argument("--name", help="policy name (default: the file name)")
        parser.add_argument(
            "--default",
            action="store_true",
            help="make it the policy for incidents no other policy matches",
        )
        parser.add_argument(
            "--draft",
            action="store_true",
            help="load as a draft version (to review or simulate) without activating it",
        )

    def handle(self, *args, file, name, default, draft, **options):

        if file is None:
            if not (
                name
                and default
                and not Policy.objects.filter(name=name).exists()
                and (PRESETS / f"{name}.yaml").exists()
            ):
                return self._set_default(name, default)
            file = name  # a preset never loaded: load it, as the default
        path = resolve(file)
        # An exported support-3-tier-v1.yaml is a new version of support-3-tier.
        name = name or policies.policy_name_for_file(path.name)
        try:
            spec = load_workflow_file(path)
            policy = policies.policy_create_from_spec(
                spec=spec,
                name=name,
                activate=not draft,
                make_default=True if default else None,
                source=str(path),
            )
        except WorkflowError as error:
            raise CommandError(f"Nothing loaded.\n{error}") from None
        except ValidationError as error:
            raise CommandError(
                "Nothing loaded.\n" + "\n".join(f"{path}: {message}" for message in error.messages)
            ) from None
        for problem in reach.reach_problems(spec):
            # A warning, not a refusal: on a fresh install the people come later. The
            # admin's "Activate" of a draft refuses it.
            self.stderr.write(self.style.WARNING(f"{path}: warning: {problem}"))
        flags = [policy.get_status_display().lower()] + (["default"] if policy.is_default else [])
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {policy} ({', '.join(flags)}) from {path}: {len(spec.levels)} levels, "
                f"{len(spec.matrix)} matrix targets, {len(spec.thresholds)} thresholds, "
                f"{len(spec.overrides)} severity overrides."
            )
        )

    def _set_default(self, name, default):
        if not (name and default):
            raise CommandError(
                "Give a FILE to load, or --name NAME --default to make the "
                "active version of NAME the default policy."
            )
        policy = Policy.objects.filter(name=name, status=PolicyStatus.ACTIVE).first()
        if policy is None:
            raise CommandError(f"No active policy named {name!r}.")
        policies.policy_set_default(policy=policy)
        self.stdout.write(self.style.SUCCESS(f"{policy} is now the default policy."))
