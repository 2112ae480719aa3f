#!/usr/bin/env python3
"""Django's command-line utility, and the portal's two entry points.

    python3 manage.py up     set up .venv, migrate, load demo data, run web + worker + beat
    python3 manage.py test   set up .venv with the test tools and run the whole test suite

Both work from any Python 3.8+ on the PATH: they find a Python 3.12+ for the
virtual environment, install the pinned dependencies when pyproject.toml
changed, and re-run themselves inside it. Every other command is Django's.
"""

import importlib.util
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _bootstrap_module():
    # Loaded by path: importing the `portal` package would import Django,
    # which may not be installed yet.
    spec = importlib.util.spec_from_file_location(
        "portal_bootstrap", BASE_DIR / "portal" / "bootstrap.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in ("up", "test"):
        bootstrap = _bootstrap_module()
        bootstrap.ensure_environment(extras=("test",) if command == "test" else ())
        if command == "test":
            bootstrap.run_tests(sys.argv[2:])
            return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise SystemExit(
            "Django is not installed in this Python. Run `python3 manage.py up` once "
            "(it creates .venv), then use .venv/bin/python manage.py ..."
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
