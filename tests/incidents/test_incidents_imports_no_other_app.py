"""incidents is the core: none of its modules imports escalations or notifications, not
even inside a function (until import-linter checks it in CI)."""

import ast
from pathlib import Path

import incidents

OTHER_APPS = {"escalations", "notifications"}
# Another branch replaces services.py's calls with a lifecycle interface.
STILL_TO_CLEAN = {"services.py"}


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OTHER_APPS


def test_incidents_modules_import_no_other_project_app():
    root = Path(incidents.__file__).parent
    offenders = {
        str(path.relative_to(root)): imported_apps(path)
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and path.name not in STILL_TO_CLEAN
    }
    assert {name: apps for name, apps in offenders.items() if apps} == {}
