"""Create and keep up to date the project's virtual environment.

Standard library only and Python 3.8 syntax: this runs under whatever
`python3` the user has before anything is installed. It is loaded by path from
manage.py, never imported as part of the `portal` package.
"""

import contextlib
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

MIN_PYTHON = (3, 12)
BASE_DIR = Path(__file__).resolve().parent.parent
VENV_DIR = Path(os.environ.get("PORTAL_VENV", BASE_DIR / ".venv"))
STAMP = VENV_DIR / ".portal-installed.json"
PYPROJECT = BASE_DIR / "pyproject.toml"


def say(message):
    print("[portal] " + message, flush=True)


def fail(message):
    print("[portal] error: " + message, file=sys.stderr, flush=True)
    raise SystemExit(2)


def venv_python():
    return VENV_DIR / "bin" / "python"


def in_venv():
    return Path(sys.prefix).resolve() == VENV_DIR.resolve()


def python_version(executable):
    """(major, minor) of an interpreter, or None if it does not run."""
    try:
        out = subprocess.run(
            [str(executable), "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def candidate_pythons():
    explicit = os.environ.get("PORTAL_PYTHON")
    if explicit:
        yield explicit
        return
    yield sys.executable
    for minor in (14, 13, 12):
        found = shutil.which("python3.%d" % minor)
        if found:
            yield found
    # pyenv installs are not on PATH unless selected: look at them directly.
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for path in sorted(
        glob.glob(os.path.join(pyenv_root, "versions", "3.*", "bin", "python3")), reverse=True
    ):
        yield path
    for path in sorted(glob.glob("/usr/local/bin/python3.1[2-9]"), reverse=True):
        yield path


def find_python():
    best = None
    for candidate in candidate_pythons():
        version = python_version(candidate)
        if version and version >= MIN_PYTHON and (best is None or version > best[1]):
            best = (candidate, version)
    if best is None:
        fail(
            "Python %d.%d or newer is needed for Django 6.1 and none was found "
            "(looked at this interpreter, python3.12-3.14 on PATH and pyenv versions). "
            "Install one, or point PORTAL_PYTHON at it." % MIN_PYTHON
        )
    return best


def read_requirements(extras):
    """Requirement lists from pyproject.toml (run inside the venv: needs tomllib)."""
    import tomllib

    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    requirements = list(data["project"]["dependencies"])
    for extra in extras:
        requirements += data["project"]["optional-dependencies"][extra]
    no_deps = list(data.get("tool", {}).get("portal", {}).get("install-without-deps", []))
    return requirements, no_deps


def wanted_stamp(extras):
    digest = hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()
    return {"pyproject": digest, "extras": sorted(extras)}


def installed_stamp():
    try:
        return json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def up_to_date(extras):
    stamp = installed_stamp()
    wanted = wanted_stamp(extras)
    return (
        stamp is not None
        and stamp.get("pyproject") == wanted["pyproject"]
        and set(wanted["extras"]) <= set(stamp.get("extras", []))
    )


@contextlib.contextmanager
def install_lock():
    """Serialise concurrent bootstraps (two terminals, CI next to a developer)."""
    lock_dir = BASE_DIR / "var"
    lock_dir.mkdir(exist_ok=True)
    with open(lock_dir / ".bootstrap.lock", "w") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # Windows: no lock, best effort
            pass
        yield


def create_venv():
    executable, version = find_python()
    if VENV_DIR.exists():
        say(
            "recreating %s (it was not a working Python %d.%d+ environment)"
            % (VENV_DIR, MIN_PYTHON[0], MIN_PYTHON[1])
        )
        shutil.rmtree(VENV_DIR)
    say("creating %s with Python %d.%d (%s)" % (VENV_DIR, version[0], version[1], executable))
    result = subprocess.run([executable, "-m", "venv", str(VENV_DIR)])
    if result.returncode != 0:
        fail(
            "could not create the virtual environment; on Debian/Ubuntu install "
            "the python3-venv package for %s" % executable
        )


def install(extras):
    """Runs inside the venv's Python: pip install the pinned requirements."""
    requirements, no_deps = read_requirements(extras)
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    say("installing %d pinned packages (this takes a minute the first time)" % len(requirements))
    if subprocess.run(pip + requirements).returncode != 0:
        fail("pip could not install the requirements from pyproject.toml (see above)")
    if no_deps and subprocess.run(pip + ["--no-deps"] + no_deps).returncode != 0:
        fail("pip could not install %s" % ", ".join(no_deps))
    STAMP.write_text(json.dumps(wanted_stamp(extras)), encoding="utf-8")


def ensure_environment(extras=()):
    """Make sure we run inside an up-to-date .venv; re-exec into it if needed."""
    extras = tuple(extras)
    if in_venv():
        if not up_to_date(extras):
            with install_lock():
                if not up_to_date(extras):
                    install(tuple(set(extras) | set((installed_stamp() or {}).get("extras", []))))
        return
    with install_lock():
        version = python_version(venv_python()) if venv_python().exists() else None
        if version is None or version < MIN_PYTHON:
            create_venv()
    # Continue inside the venv: it installs what is missing, then runs the command.
    os.execv(str(venv_python()), [str(venv_python()), str(BASE_DIR / "manage.py")] + sys.argv[1:])


def run_tests(args):
    """The whole test suite: pytest, configured in pyproject.toml."""
    os.chdir(BASE_DIR)
    os.execv(sys.executable, [sys.executable, "-m", "pytest"] + list(args))
