"""`python3 manage.py up`: everything a fresh machine needs to show the portal."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from incidents.models import Incident
from portal.logins import ensure_role_logins
from portal.supervisor import Supervisor


def _mask(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


class Command(BaseCommand):
    help = (
        "Migrate, load demo data into an empty database, create role logins, and run "
        "the web server, a Celery worker, Celery beat and the sweep scheduler together, "
        "restarting any that exits (Ctrl-C stops all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
        parser.add_argument(
            "--workers", type=int, default=2, help="Celery worker concurrency (default 2)"
        )

    def handle(self, *args, no_demo, workers, **options):
        self._describe()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        if not no_demo and not Incident.objects.exists():
            self.stdout.write("Empty database: loading demo data (about 200 incidents)...")
            call_command("load_demo")
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        logins = ensure_role_logins()
        self._check_port()
        self._print_logins(logins)
        self._print_customer_link()
        self._run(workers)

    def _describe(self) -> None:
        db = connection.settings_dict
        database = (
            db["NAME"]
            if db["ENGINE"].endswith("sqlite3")
            else (f"PostgreSQL {db.get('HOST') or 'localhost'}/{db['NAME']}")
        )
        broker = settings.CELERY_BROKER_URL
        if broker.startswith("filesystem://"):
            broker = f"files in {settings.VAR_DIR / 'broker'} (embedded, no server)"
        self.stdout.write(self.style.MIGRATE_HEADING("Escalation portal"))
        self.stdout.write(f"  database: {database}")
        self.stdout.write(f"  broker:   {_mask(broker)}")
        self.stdout.write(f"  email:    {settings.EMAIL_PROVIDER}")
        mode = "DEBUG (runserver)" if settings.DEBUG else "production (gunicorn)"
        self.stdout.write(f"  mode:     {mode}")

    def _check_port(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((settings.HOST, settings.PORT))
            except OSError as error:
                raise CommandError(
                    f"Cannot listen on {settings.HOST}:{settings.PORT} ({error.strerror}). "
                    f"Is the portal already running? Choose another port with PORT=8001."
                ) from None

    def _print_logins(self, logins) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Sign in with (passwords are shown once):"))
        for login in logins:
            password = (
                login.password or f"(set earlier; reset: manage.py changepassword {login.username})"
            )
            self.stdout.write(f"  {login.role:<22} {login.username:<11} {password}")
        self.stdout.write("")

    def _print_customer_link(self) -> None:
        """What a customer sees: the status page of an open incident, from its signed link."""
        from incidents.customer_links import status_url

        incident = (
            Incident.objects.open()
            .filter(is_security=False, account__isnull=False)
            .exclude(account__primary_contact_email="")
            .select_related("account")
            .order_by("-opened_at")
            .first()
        )
        if incident is None:
            return
        url = status_url(incident_id=incident.pk, email=incident.account.primary_contact_email)
        self.stdout.write(f"  A customer's status page ({incident.reference}): {url}")
        self.stdout.write(f"  The public status page: {settings.SITE_URL}/status/")
        self.stdout.write("")

    def _commands(self, workers: int) -> dict[str, list[str]]:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        address = f"{settings.HOST}:{settings.PORT}"
        if settings.DEBUG:
            web = [python, manage, "runserver", address]
        else:
            web = [
                *(python, "-m", "gunicorn", "portal.wsgi:application", "--bind", address),
                *("--workers", "3", "--access-logfile", "-", "--graceful-timeout", "10"),
            ]
        celery = [python, "-m", "celery", "-A", "portal"]
        return {
            "web": web,
            "worker": [
                *celery,
                *("worker", "--loglevel", "INFO", "--concurrency", str(workers)),
                *("--without-gossip", "--without-mingle"),
            ],
            "beat": [*celery, "beat", "--loglevel", "INFO"],
            # the SLA and reminder sweeps, straight against the database: no broker
            "scheduler": [python, manage, "scheduler"],
        }

    def _announce_when_ready(self) -> None:
        url = f"http://127.0.0.1:{settings.PORT}/healthz"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        self.stdout.write(
                            self.style.SUCCESS(
                                f"\n  Portal ready: open {settings.SITE_URL}/  (Ctrl-C stops "
                                f"them all)\n"
                            )
                        )
                        return
            except OSError:
                pass
            time.sleep(0.5)  # polling a server we just started, with a deadline

    def _run(self, workers: int) -> None:
        supervisor = Supervisor(
            self._commands(workers),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=str(settings.BASE_DIR),
            out=sys.stdout,
        )
        self.stdout.write(
            f"Starting web on {settings.SITE_URL}/, a Celery worker, beat and the scheduler..."
        )
        threading.Thread(target=self._announce_when_ready, daemon=True).start()
        sys.exit(supervisor.run())
