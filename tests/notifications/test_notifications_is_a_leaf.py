"""notifications is a leaf: no module of it imports incidents or escalations, not even
inside a function (who hears what is decided by the domain, which calls notifications).
Migrations are history and may name other apps; models refer to them by string."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "notifications"
FORBIDDEN = {"incidents", "escalations"}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import in `source`, wherever it is: module level,
    inside functions and classes, and import_module("...") / __import__("...")."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def modules() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "migrations" not in p.relative_to(APP).parts)


def test_the_scan_sees_imports_hidden_in_functions():
    source = """
import os
from notifications import models
from . import services

def later():
    from incidents.models import Incident
    import escalations.notices

class Admin:
    def run(self):
        importlib.import_module("escalations.engine")
"""
    top = {module.split(".")[0] for _line, module in imported_modules(source)}
    assert top == {"os", "notifications", "incidents", "escalations"}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(APP.parent)))
def test_no_notifications_module_imports_incidents_or_escalations(path):
    wrong = [
        f"{path.relative_to(APP.parent)}:{line} imports {module}"
        for line, module in imported_modules(path.read_text(encoding="utf-8"))
        if module.split(".")[0] in FORBIDDEN
    ]
    assert not wrong, "\n".join(wrong)


def test_the_scan_covers_the_app():
    names = {p.name for p in modules()}
    assert {"services.py", "transports.py", "rendering.py", "inbound.py", "admin.py"} <= names
