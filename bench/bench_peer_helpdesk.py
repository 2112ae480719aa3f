"""The peer's figure on this machine (issue 17): django-helpdesk's `escalate_tickets` over
20,000 open tickets of which 2,000 are overdue (bump the priority, a follow-up with its
change, an email to the submitter each), on the same PostgreSQL server.

django-helpdesk needs its own Django, so it runs in a virtualenv of its own under
`var/bench/helpdesk-venv` (made once, with the versions pinned below), against a
`<DATABASE_URL's name>_helpdesk` database created afresh, with a minimal project written
to a temporary folder. Run it right after `bench_storm.py` for a side-by-side figure
(the command is in bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "bench" / "helpdesk-venv"
PEER = ["django-helpdesk==2.6.1", "Django==5.2.19", "psycopg[binary]==3.3.9"]

SETTINGS = """
import os
SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.sites", "django.contrib.messages",
    "django.contrib.humanize", "rest_framework", "helpdesk",
]
SITE_ID = 1
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", **{
    key: os.environ[f"PEER_DB_{key}"] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")
}}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
USE_TZ = True
ROOT_URLCONF = "peer_urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages"]}}]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
HELPDESK_TEAMS_MODE_ENABLED = False  # no pinax-teams: its migrations are not needed
"""

URLS = """
from django.urls import include, path
urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
"""

RUN = """
import os, sys, time
from datetime import timedelta
import django
django.setup()
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from helpdesk.models import FollowUp, Queue, Ticket

count, overdue = int(sys.argv[1]), int(sys.argv[2])
call_command("migrate", verbosity=0)
queue = Queue.objects.create(slug="support", title="Support", escalate_days=1)
now = timezone.now()
Ticket.objects.bulk_create(
    [Ticket(title=f"Ticket {n}", queue=queue, status=Ticket.OPEN_STATUS, priority=3,
            submitter_email=f"customer{n}@example.com", description="x", modified=now)
     for n in range(count)],
    batch_size=2000,
)
# `created` is auto_now_add: the overdue ones are aged afterwards.
first = list(Ticket.objects.order_by("id").values_list("id", flat=True)[:overdue])
Ticket.objects.filter(id__in=first).update(created=now - timedelta(days=3))
started = time.perf_counter()
call_command("escalate_tickets")
elapsed = time.perf_counter() - started
escalated = Ticket.objects.filter(priority=2).count()
assert escalated == overdue, (escalated, overdue)
print(f"django-helpdesk {django.get_version()} escalate_tickets: {count:,} open tickets, "
      f"{overdue:,} overdue: {escalated:,} escalated in {elapsed:.2f} s = "
      f"{escalated / elapsed:,.0f} escalations/s ({FollowUp.objects.count():,} follow-ups, "
      f"{len(mail.outbox):,} emails)")
"""


def peer_python() -> Path:
    """The peer's interpreter, its virtualenv made (once) with the pinned versions."""
    python = VENV / "bin" / "python"
    marker = VENV / "pinned.txt"
    if not python.exists() or marker.read_text() != "\n".join(PEER):
        venv.create(VENV, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER], check=True)
        marker.write_text("\n".join(PEER))
    return python


def fresh_database(url: str) -> dict[str, str]:
    """A new `<name>_helpdesk` database on the server of `url`; its connection settings."""
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'portal'}_helpdesk"
    admin = urlunsplit(parts._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return {
        "PEER_DB_NAME": name,
        "PEER_DB_USER": parts.username or "",
        "PEER_DB_PASSWORD": parts.password or "",
        "PEER_DB_HOST": parts.hostname or "",
        "PEER_DB_PORT": str(parts.port or ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--overdue", type=int, default=2_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL=postgres://... (a <name>_helpdesk database is made).")
    python = peer_python()
    database = fresh_database(url)
    with tempfile.TemporaryDirectory() as project:
        Path(project, "peer_settings.py").write_text(SETTINGS)
        Path(project, "peer_urls.py").write_text(URLS)
        Path(project, "peer_run.py").write_text(RUN)
        env = {
            **os.environ,
            "PYTHONPATH": project,
            "DJANGO_SETTINGS_MODULE": "peer_settings",
            **database,
        }
        result = subprocess.run(
            [str(python), str(Path(project, "peer_run.py")), str(args.open), str(args.overdue)],
            env=env,
            capture_output=True,
            text=True,
        )
    sys.stdout.write(result.stdout)
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(result.returncode)


if __name__ == "__main__":
    main()
