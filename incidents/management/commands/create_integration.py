import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.alerts import integration_create
from incidents.models import AlertGrouping, Channel, Component, IntegrationKind


class Command(BaseCommand):
    help = (
        "Create an alert integration and print its secret URL (shown this once; "
        "rotate it in the admin if it is lost). Kinds: alertmanager, grafana, events-v2."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=IntegrationKind.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--channel", default="MONITORING", help="channel code of its incidents")
        parser.add_argument("--component", help="component name of its incidents")
        parser.add_argument(
            "--grouping",
            choices=AlertGrouping.values,
            default=AlertGrouping.GROUP_KEY,
            help="one incident per alert group (group_key, default) or per alert (fingerprint)",
        )
        parser.add_argument("--severity-label", default="severity")
        parser.add_argument(
            "--severity-map",
            help='JSON, e.g. \'{"critical": "P1", "warning": "P3"}\' (default: critical P1, '
            "error P2, warning P3, info P3)",
        )
        parser.add_argument("--default-severity", default="P2")
        parser.add_argument("--rate-limit", type=int, default=300, help="requests per window")
        parser.add_argument("--rate-window", type=int, default=300, help="window in seconds")

    def handle(self, *args, **options):
        channel = Channel.objects.filter(code=options["channel"].upper()).first()
        if channel is None:
            raise CommandError(f"No channel with code {options['channel']!r}.")
        component = None
        if options["component"]:
            component = Component.objects.filter(name=options["component"]).first()
            if component is None:
                raise CommandError(f"No component named {options['component']!r}.")
        severity_map = None
        if options["severity_map"]:
            try:
                severity_map = json.loads(options["severity_map"])
            except ValueError as error:
                raise CommandError(f"--severity-map is not JSON: {error}") from None
        try:
            created = integration_create(
                kind=options["kind"],
                name=options["name"],
                channel=channel,
                component=component,
                grouping=options["grouping"],
                severity_label=options["severity_label"],
                severity_map=severity_map,
                default_severity=options["default_severity"],
                rate_limit=options["rate_limit"],
                rate_window=options["rate_window"],
            )
        except ValidationError as error:
            problems = (
                "; ".join(
                    f"{field}: {' '.join(messages)}"
                    for field, messages in error.message_dict.items()
                )
                if hasattr(error, "error_dict")
                else " ".join(error.messages)
            )
            raise CommandError(problems) from None
        self.stdout.write(f"Integration {created.integration.name!r} ({created.integration.kind}).")
        self.stdout.write(created.url)
        if created.integration.kind == IntegrationKind.EVENTS_V2:
            self.stdout.write(f"routing_key: {created.token}")
        self.stderr.write("Keep it secret: it is shown only this once.")
