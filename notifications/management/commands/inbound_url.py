"""Print the address to give the ESP for inbound mail (customer replies)."""

from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from notifications.webhooks import inbound_views


class Command(BaseCommand):
    help = "Print the inbound-mail webhook URL (with its basic-auth credentials) for an ESP."

    def add_arguments(self, parser):
        parser.add_argument(
            "--esp",
            default=None,
            help="ESP name as anymail spells it (default: EMAIL_PROVIDER), e.g. postmark.",
        )

    def handle(self, *args, esp=None, **options):
        esp = esp or settings.INBOUND_EMAIL_ESP or settings.EMAIL_PROVIDER
        if esp not in inbound_views():
            raise CommandError(
                f"anymail has no inbound webhook for {esp!r}: pass --esp with one that does "
                "(e.g. postmark, mailgun, sendgrid, amazon_ses, brevo, mailjet, sparkpost)."
            )
        if esp != settings.INBOUND_EMAIL_ESP:
            self.stderr.write(f"Set INBOUND_EMAIL_ESP={esp}: until then this webhook answers 404.")
        path = reverse("inbound_mail", args=[esp])
        secret = settings.ANYMAIL["WEBHOOK_SECRET"]
        secret = secret[0] if isinstance(secret, list) else secret
        user, _, password = secret.partition(":")
        site = urlsplit(settings.SITE_URL)
        self.stdout.write(
            f"{site.scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{site.netloc}{path}"
        )
