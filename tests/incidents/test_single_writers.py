"""One writer for the timeline and for incident rows; no module uses another's private names.

Reads the project's source with `ast` (nothing is imported or run):

* Only incidents/services.py creates timeline events (`IncidentEvent(...)`,
  `IncidentEvent.objects.create/bulk_create/...`, `incident.events.create`, the bulk COPY
  helpers of portal.bulk, raw `INSERT`/`COPY`) or writes incident rows (`.save()` on an
  incident, `Incident(...)`, `Incident.objects...update/create/bulk_update`, raw `UPDATE`).
  Everything else calls its writers (incident_lock, incident_save, incident_store_clocks,
  incidents_store_next_checks, incident_event_append, incident_events_append_many).
  Not scanned for writes: migrations (frozen history, historical models) and bench/ (the
  benchmark loaders COPY millions of rows straight into the tables to build a database of
  production size; they are not part of the application).
* No module imports another module's `_private` name (`from a.b import _x`, `a.b._x`,
  `m._x` for an imported module `m`). Tests are not scanned.

The scanner's own tests below feed it small sources: each rule must catch what it
names and leave reads alone.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("incidents", "escalations", "notifications", "portal")
WRITER = "incidents/services.py"
INCIDENT = "incidents.models.Incident"
EVENT = "incidents.models.IncidentEvent"
MODELS = {INCIDENT: "Incident", EVENT: "IncidentEvent"}
# Manager and queryset methods that write rows, and those that return one row.
WRITE_METHODS = {
    "create",
    "bulk_create",
    "get_or_create",
    "update_or_create",
    "update",
    "bulk_update",
}
INSTANCE_GETTERS = {"get", "first", "last", "latest", "earliest", "create", "get_or_create"}
MANAGERS = {"objects", "_default_manager", "_base_manager"}
# Related managers that reach incidents or their events (Channel.incidents, incident.events...).
RELATED = {"events": EVENT, "incidents": INCIDENT, "assigned_incidents": INCIDENT}
BULK_WRITERS = {"append_rows", "append_dicts", "append_rows_ignoring_duplicates"}
TABLES = {"incidents_incident": INCIDENT, "incidents_incidentevent": EVENT}
SQL_WRITE = re.compile(r"\b(UPDATE|INSERT\s+INTO|COPY|DELETE\s+FROM)\s+[\"'`]?$", re.IGNORECASE)
SQL_WRITE_TABLE = re.compile(
    r"\b(?:UPDATE|INSERT\s+INTO|COPY|DELETE\s+FROM)\s+[\"'`]?(incidents_incident(?:event)?)\b",
    re.IGNORECASE,
)


# --- which files, which modules -----------------------------------------------------------------


def source_files(*, with_migrations: bool, with_bench: bool) -> Iterator[Path]:
    roots = [ROOT / app for app in APPS] + ([ROOT / "bench"] if with_bench else [])
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if not with_migrations and "migrations" in path.relative_to(ROOT).parts:
                continue
            yield path
    yield ROOT / "manage.py"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[0] == "bench":
        parts = parts[1:]  # bench scripts import each other as top-level modules
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_module(dotted: str, root: Path = ROOT) -> bool:
    """Whether `dotted` names a module or package of this project."""
    for base in (root, root / "bench"):
        path = base.joinpath(*dotted.split("."))
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return True
    return False


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


class Imports:
    """Local names bound by a module's imports (anywhere in it), as dotted paths."""

    def __init__(self, tree: ast.Module, module: str, is_package: bool):
        self.names: dict[str, str] = {}
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.names[top] = top
            elif isinstance(node, ast.ImportFrom):
                source = self.source(node, package)
                for alias in node.names:
                    self.names[alias.asname or alias.name] = f"{source}.{alias.name}"

    @staticmethod
    def source(node: ast.ImportFrom, package: str) -> str:
        if not node.level:
            return node.module or ""
        base = package.split(".") if package else []
        base = base[: len(base) - (node.level - 1)]
        return ".".join([*base, *([node.module] if node.module else [])])

    def dotted(self, node: ast.AST) -> str | None:
        """`a.b.c` for a Name or Attribute chain whose root is an imported name."""
        attrs = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.names:
            return None
        return ".".join([self.names[node.id], *reversed(attrs)])


# --- the writer rule ------------------------------------------------------------------------------


class WriteFinder(ast.NodeVisitor):
    """Writes of incident rows and timeline events, as (line, what)."""

    def __init__(self, imports: Imports, local_models: dict[str, str]):
        self.imports = imports
        self.local_models = local_models  # models defined in the scanned module itself
        self.found: list[tuple[int, str]] = []
        self.scopes: list[dict[str, ast.AST]] = [{}]  # name -> assigned value, per function

    # Models and querysets -----------------------------------------------------------------

    def model_of(self, node: ast.AST) -> str | None:
        """INCIDENT or EVENT when `node` is the model class itself."""
        if isinstance(node, ast.Name) and node.id in self.local_models:
            return self.local_models[node.id]
        dotted = self.imports.dotted(node)
        return dotted if dotted in MODELS else None

    def assigned(self, name: str) -> ast.AST | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def rows_of(self, node: ast.AST, seen: frozenset = frozenset()) -> str | None:
        """The model whose rows `node` reaches when it is a manager or a queryset
        (`Incident.objects`, `Incident.objects.filter(...)`, `incident.events`)."""
        if isinstance(node, ast.Attribute):
            if node.attr in MANAGERS:
                return self.model_of(node.value)
            return RELATED.get(node.attr)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in INSTANCE_GETTERS:
                return None
            return self.rows_of(node.func.value, seen)  # filter(), select_for_update()...
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.rows_of(node.value, seen)
        if isinstance(node, ast.Name) and node.id not in seen:
            value = self.assigned(node.id)
            return None if value is None else self.rows_of(value, seen | {node.id})
        return None

    def instance_of(self, node: ast.AST, seen: frozenset = frozenset()) -> str | None:
        """The model of the row `node` holds when it was built or fetched in view
        (`Incident(...)`, `Incident.objects.get(...)`, `incidents[0]`)."""
        if isinstance(node, ast.Call):
            model = self.model_of(node.func)
            if model:
                return model
            if isinstance(node.func, ast.Attribute) and node.func.attr in INSTANCE_GETTERS:
                return self.rows_of(node.func.value, seen)
            return None
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            return self.rows_of(node.value, seen)
        if isinstance(node, ast.Name) and node.id not in seen:
            value = self.assigned(node.id)
            return None if value is None else self.instance_of(value, seen | {node.id})
        return None

    # Scopes -------------------------------------------------------------------------------

    def visit_FunctionDef(self, node):
        self.scopes.append({})
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign):
        for target in node.targets:
            self.bind(target, node.value)
        self.generic_visit(node)

    def bind(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = value
        elif (
            isinstance(target, ast.Tuple | ast.List)
            and isinstance(value, ast.Tuple | ast.List)
            and len(value.elts) == len(target.elts)
        ):
            for one, other in zip(target.elts, value.elts, strict=True):
                self.bind(one, other)

    # The rules ----------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call):
        func = node.func
        model = self.model_of(func)
        if model:
            self.found.append((node.lineno, f"builds an {MODELS[model]}"))
        elif isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS:
            receiver = func.value
            model = self.rows_of(receiver) or self.model_of(receiver)
            if model:
                self.found.append((node.lineno, f"{MODELS[model]} rows .{func.attr}()"))
        elif isinstance(func, ast.Attribute) and func.attr == "save":
            model = self.instance_of(func.value)
            if model:
                self.found.append((node.lineno, f"saves an {MODELS[model]}"))
            elif self.names_an_incident(func.value):
                self.found.append((node.lineno, "saves an incident"))
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in BULK_WRITERS:
            for arg in node.args[:1]:
                model = self.model_of(arg)
                if model:
                    self.found.append((node.lineno, f"{name}({MODELS[model]}, ...)"))
        self.generic_visit(node)

    @staticmethod
    def names_an_incident(receiver: ast.AST) -> bool:
        while isinstance(receiver, ast.Subscript):
            receiver = receiver.value
        if isinstance(receiver, ast.Name):
            name = receiver.id
        elif isinstance(receiver, ast.Attribute):
            name = receiver.attr
        else:
            return False
        return "incident" in name.lower()

    def visit_Constant(self, node: ast.Constant):
        if isinstance(node.value, str):
            match = SQL_WRITE_TABLE.search(node.value)
            if match:
                self.found.append((node.lineno, f"SQL writes {match.group(1)}"))

    def visit_JoinedStr(self, node: ast.JoinedStr):
        text = ""
        for part in node.values:
            if isinstance(part, ast.Constant):
                text += str(part.value)
                match = SQL_WRITE_TABLE.search(text)
                if match:
                    self.found.append((node.lineno, f"SQL writes {match.group(1)}"))
                    return
            elif isinstance(part, ast.FormattedValue):
                if SQL_WRITE.search(text):
                    model = self.table_of(part.value)
                    if model:
                        self.found.append((node.lineno, f"SQL writes {MODELS[model]}'s table"))
                        return
                text += "{}"

    def table_of(self, node: ast.AST, seen: frozenset = frozenset()) -> str | None:
        """The model whose table `node` names (`Model._meta.db_table`, maybe quoted)."""
        if isinstance(node, ast.Name) and node.id not in seen:
            value = self.assigned(node.id)
            return None if value is None else self.table_of(value, seen | {node.id})
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr == "_meta":
                model = self.model_of(sub.value)
                if model:
                    return model
        return None


def writes_in(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    local_models = {}
    if module == "incidents.models":
        local_models = {"Incident": INCIDENT, "IncidentEvent": EVENT}
    finder = WriteFinder(Imports(tree, module, is_package), local_models)
    finder.visit(tree)
    return finder.found


# --- the private-name rule ------------------------------------------------------------------------


def private_uses_in(
    source: str, module: str, *, is_package: bool = False, root: Path = ROOT
) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    imports = Imports(tree, module, is_package)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source_module = Imports.source(node, package)
            if source_module == module or not is_module(source_module, root):
                continue
            for alias in node.names:
                if is_private(alias.name):
                    found.append((node.lineno, f"from {source_module} import {alias.name}"))
        elif isinstance(node, ast.Attribute) and is_private(node.attr):
            owner = imports.dotted(node.value)
            if owner and owner != module and is_module(owner, root):
                found.append((node.lineno, f"{owner}.{node.attr}"))
    return found


# --- the project as it is -------------------------------------------------------------------------


def _scan(finder, **files) -> list[str]:
    problems = []
    for path in source_files(**files):
        relative = path.relative_to(ROOT).as_posix()
        is_package = path.name == "__init__.py"
        for line, what in finder(path.read_text(), module_name(path), is_package=is_package):
            problems.append(f"{relative}:{line}: {what}")
    return problems


def test_only_incidents_services_writes_incidents_and_their_timeline():
    problems = [
        problem
        for problem in _scan(writes_in, with_migrations=False, with_bench=False)
        if not problem.startswith(f"{WRITER}:")
    ]
    assert problems == [], (
        "Write incident rows and timeline events through incidents.services "
        "(incident_lock, incident_save, incident_store_clocks, incident_event_append, ...):\n"
        + "\n".join(problems)
    )


def test_the_writer_module_is_where_the_writes_are():
    # Guards the scan itself: were it blind, the test above would pass on anything.
    writes = [
        problem
        for problem in _scan(writes_in, with_migrations=False, with_bench=False)
        if problem.startswith(f"{WRITER}:")
    ]
    for what in (
        "IncidentEvent rows .create()",
        "saves an incident",
        "builds an Incident",
        "append_dicts(IncidentEvent, ...)",
        "SQL writes Incident's table",
    ):
        assert any(what in problem for problem in writes), what


def test_no_module_imports_another_modules_private_names():
    problems = _scan(private_uses_in, with_migrations=True, with_bench=True)
    assert problems == [], "Make these public where they belong:\n" + "\n".join(problems)


# --- the scanner catches what it names ------------------------------------------------------------

VIOLATIONS = {
    "event create": (
        "from incidents.models import IncidentEvent\n"
        "def f(incident):\n"
        "    IncidentEvent.objects.create(incident=incident, kind='comment')\n"
    ),
    "event bulk_create through an alias": (
        "from incidents.models import IncidentEvent as Event\nEvent.objects.bulk_create([])\n"
    ),
    "event built": (
        "from incidents import models\n"
        "def f(incident):\n"
        "    models.IncidentEvent(incident=incident).save()\n"
    ),
    "event through the related manager": (
        "def f(incident):\n    incident.events.create(kind='comment')\n"
    ),
    "event COPY through portal.bulk": (
        "from incidents.models import IncidentEvent\n"
        "from portal.bulk import append_dicts\n"
        "append_dicts(IncidentEvent, [])\n"
    ),
    "incident save": "def f(incident):\n    incident.status = 'closed'\n    incident.save()\n",
    "incident save on an attribute": "def f(review):\n    review.incident.save()\n",
    "incident save with fields": (
        "def f(locked_incident):\n    locked_incident.save(update_fields=['status'])\n"
    ),
    "incident queryset update": (
        "from incidents.models import Incident\n"
        "def f(pk):\n"
        "    Incident.objects.filter(pk=pk).update(status='closed')\n"
    ),
    "incident queryset held in a name": (
        "from .models import Incident\n"
        "def f(pk):\n"
        "    rows = Incident.objects.filter(pk=pk)\n"
        "    rows.select_for_update().update(status='closed')\n"
    ),
    "incident bulk_update": (
        "from incidents.models import Incident\nIncident.objects.bulk_update([], ['status'])\n"
    ),
    "incident created": (
        "from incidents.models import Incident\nIncident.objects.create(title='x')\n"
    ),
    "incident built": "from incidents.models import Incident\nrow = Incident(title='x')\n",
    "incidents through a related manager": (
        "def f(channel):\n    channel.incidents.update(severity='P1')\n"
    ),
    "raw UPDATE by table name": (
        "def f(cursor):\n    cursor.execute('UPDATE incidents_incident SET status = %s', ['x'])\n"
    ),
    "raw UPDATE by _meta": (
        "from incidents.models import Incident\n"
        "def f(cursor):\n"
        "    table = Incident._meta.db_table\n"
        "    cursor.execute(f'UPDATE {table} SET status = %s', ['x'])\n"
    ),
    "raw COPY of events": (
        "from incidents.models import IncidentEvent\n"
        "def f(cursor):\n"
        "    q = str\n"
        "    cursor.copy(f'COPY {q(IncidentEvent._meta.db_table)} (kind) FROM STDIN')\n"
    ),
}

READS = {
    "timeline read": (
        "from incidents.models import IncidentEvent\n"
        "def f(ids):\n"
        "    return list(IncidentEvent.objects.filter(incident_id__in=ids).values_list('id'))\n"
    ),
    "locked read": (
        "from incidents.models import Incident\n"
        "def f(pk):\n"
        "    return Incident.objects.select_for_update().get(pk=pk)\n"
    ),
    "other models": (
        "from escalations.models import Escalation\n"
        "def f(review, escalation, incident):\n"
        "    review.save()\n"
        "    Escalation.objects.filter(incident=incident).update(acknowledged_at=None)\n"
        "    incident.escalations.create(to_level=2)\n"
    ),
    "a dict named for incidents": "def f(incidents):\n    incidents.update({1: 2})\n",
    "a read joining the incident table": (
        "from incidents.models import AlertDedup, Incident\n"
        "def f(cursor, q):\n"
        "    keys, incidents = q(AlertDedup._meta.db_table), q(Incident._meta.db_table)\n"
        "    cursor.execute(f'UPDATE {keys} SET n = 1 WHERE EXISTS (SELECT 1 FROM {incidents})')\n"
    ),
    "the writers": (
        "from incidents.services import incident_event_append, incident_save\n"
        "def f(incident, now):\n"
        "    incident_save(incident=incident, fields=['status'])\n"
        "    incident_event_append(incident=incident, kind='comment', at=now)\n"
    ),
}


@pytest.mark.parametrize("source", VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_the_scan_catches(source):
    assert writes_in(source, "incidents.somewhere") != []


@pytest.mark.parametrize("source", READS.values(), ids=READS.keys())
def test_the_scan_lets_pass(source):
    assert writes_in(source, "incidents.somewhere") == []


PRIVATE_USES = {
    "absolute import": "from incidents.services import _now\n",
    "relative import": "from .serializers import _shared, public_name\n",
    "a parent package's module": "from ..analytics.metrics import _elapsed\n",
    "attribute of an imported module": (
        "from notifications import services\nx = services._kick()\n"
    ),
    "attribute of a dotted import": (
        "import escalations.engine.services\nescalations.engine.services._locked(1)\n"
    ),
    "inside a function": "def f():\n    from escalations.sla.services import _STATUS_EVENTS\n",
}

PUBLIC_USES = {
    "public names": "from escalations.followup.people import check_person\n",
    "django's model API": (
        "from incidents.models import Incident\ntable = Incident._meta.db_table\n"
    ),
    "an instance's state": "def f(incident):\n    incident._state.adding = True\n",
    "other libraries": "from django.db.models.sql import _private_thing\n",
    "dunder names": "from escalations import __name__ as name\n",
    "the module's own name": "from escalations.api.views import _helper\n",
}


@pytest.mark.parametrize("source", PRIVATE_USES.values(), ids=PRIVATE_USES.keys())
def test_the_private_name_scan_catches(source):
    assert private_uses_in(source, "escalations.api.views") != []


@pytest.mark.parametrize("source", PUBLIC_USES.values(), ids=PUBLIC_USES.keys())
def test_the_private_name_scan_lets_pass(source):
    assert private_uses_in(source, "escalations.api.views") == []
