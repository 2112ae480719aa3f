"""A bad environment variable stops start-up with a message naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(tmp_path, **env):
    """Load the settings in a fresh interpreter, as start-up would."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "DATABASE_URL",
                "CELERY_",
                "EMAIL_",
                "ANYMAIL_",
                "SECRET_KEY",
                "DEBUG",
                "TIME_ZONE",
                "SITE_URL",
                "PORT",
            )
        )
    }
    clean.update({"PORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "portal.settings"})
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], "
            "settings.MAILERS['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_need_no_configuration(tmp_path):
    result = start(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sqlite3" in result.stdout and "console" in result.stdout
    assert (tmp_path / "secret_key").read_text().strip()  # generated once, for local use
    second = start(tmp_path)
    assert second.returncode == 0


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEBUG": "perhaps"}, "DEBUG"),
        ({"TIME_ZONE": "Mars/Olympus_Mons"}, "TIME_ZONE"),
        ({"PORT": "eighty"}, "PORT"),
        ({"DATABASE_CONN_MAX_AGE": "-1"}, "DATABASE_CONN_MAX_AGE"),
        ({"DATABASE_URL": "foo"}, "DATABASE_URL"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@localhost/portal"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://u:p@db.example:port/portal"}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "carrier-pigeon://coop"}, "CELERY_BROKER_URL"),
        ({"EMAIL_PROVIDER": "owlpost"}, "EMAIL_PROVIDER"),
        ({"EMAIL_PROVIDER": "postmark"}, "EMAIL_API_KEY"),
        ({"INBOUND_EMAIL_ESP": "owlpost"}, "INBOUND_EMAIL_ESP"),
        ({"INCIDENT_REFERENCE_PREFIX": "inc-"}, "INCIDENT_REFERENCE_PREFIX"),
        ({"SITE_URL": "portal.example.com"}, "SITE_URL"),
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT"),
        ({"LOGIN_LOCKOUT_MINUTES": "soon"}, "LOGIN_LOCKOUT_MINUTES"),
        ({"API_TOKEN_RATE": "600/week"}, "API_TOKEN_RATE"),
        ({"API_TOKEN_TTL_DAYS": "-1"}, "API_TOKEN_TTL_DAYS"),
        ({"STATUS_PAGE_LINK_RATE": "lots"}, "STATUS_PAGE_LINK_RATE"),
        ({"STATUS_PAGE_ADDRESS_RATE": "0/hour"}, "STATUS_PAGE_ADDRESS_RATE"),
        ({"API_DOCS_PUBLIC": "maybe"}, "API_DOCS_PUBLIC"),
        ({"CACHE_URL": "carrier-pigeon://coop"}, "CACHE_URL"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(tmp_path, env, variable):
    result = start(tmp_path, **env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert variable in last_line


def test_all_bad_variables_are_reported_at_once(tmp_path):
    result = start(tmp_path, DEBUG="maybe", PORT="-1")
    last_line = result.stderr.strip().splitlines()[-1]
    assert "DEBUG" in last_line and "PORT" in last_line


def test_production_settings_with_anymail(tmp_path):
    result = start(
        tmp_path,
        DEBUG="false",
        SECRET_KEY="x" * 50,
        EMAIL_PROVIDER="postmark",
        EMAIL_API_KEY="server-token",
        DATABASE_URL="postgres://u:p@db.example/portal",
        SITE_URL="https://portal.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout and "anymail.backends.postmark" in result.stdout
