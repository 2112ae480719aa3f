"""Append many new rows fast: COPY on PostgreSQL, bulk_create elsewhere; and build
many model instances (new ones, or read ones) without Model.__init__.

For append-only rows (timeline events, threshold firings): constraints still
apply (a duplicate firing fails the COPY and the transaction), defaults and
auto_now_add fields are filled as save() would; primary keys are set only when asked
(`with_ids`, one sequence query).
"""

from __future__ import annotations

from datetime import UTC, datetime
from operator import attrgetter, itemgetter

import orjson
import psycopg.errors
from django.db import IntegrityError, connection, transaction
from django.db.models import signals
from django.db.models.base import ModelState
from django.utils import timezone


def append_rows(model, objects: list, *, with_ids: bool = False) -> int:
    """COPY `objects` in. `with_ids`: take their primary keys from the table's sequence
    first (one query) and set them on the objects, as bulk_create would, for rows that
    other rows of the same transaction point at."""
    if not objects:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=1000)
        return len(objects)
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    if with_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, len(objects)],
            )
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
    # Fields that fill themselves on save (auto_now_add) get the statement's instant.
    filled = [
        f.attname
        for f in fields
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False)
    ]
    now = timezone.now()  # one instant for the statement, as save() would set each
    for obj in objects:
        for name in filled:
            setattr(obj, name, now)
    names = [f.attname for f in fields]
    # Values are read off each instance's __dict__ (one itemgetter for the row): a
    # foreign key's attname is a descriptor, a Python call per value.
    try:
        values = list(map(_getter(itemgetter, names), map(_instance_dict, objects)))
    except KeyError:  # an object lacking a value there (deferred): read with getattr
        values = list(map(_getter(attrgetter, names), objects))
    _copy(model, fields, values)
    return len(objects)


_instance_dict = attrgetter("__dict__")


def _getter(kind, names: list[str]):
    """itemgetter/attrgetter of `names` that gives a tuple even for one name."""
    if len(names) == 1:
        one = kind(names[0])
        return lambda source: (one(source),)
    return kind(*names)


def _copy(model, fields: list, rows: list) -> None:
    """COPY `rows` (one value per field, in order) into the model's table. Values are
    converted a column at a time (JSON and instants: once per distinct object), and
    psycopg writes each row's text."""
    columns = list(zip(*rows, strict=True))
    for i, field in enumerate(fields):
        convert = _converter(field)
        if convert is not None:
            columns[i] = convert(columns[i])
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in zip(*columns, strict=True):
            copy.write_row(row)


def unsaved(model, related: dict | None = None, /, **values):
    """A new, unsaved `model` instance with its values set directly: a storm's sweep
    builds thousands of rows, and Model.__init__ (keyword matching, a descriptor call
    per field) was a large share of its time. `values` are by attname (`actor_id`);
    `related` maps foreign keys' names to instances at hand (or None), set as
    Model(name=instance) would: their id stored and the instance cached, so reading it
    back costs no query. Fields not given take their defaults (callable ones called
    for each row). Equivalent to model(**related, **values) as long as no
    pre_init/post_init receiver listens to the model (checked: then it is that)."""
    return unsaved_maker(model, related)(**values)


def unsaved_maker(model, related: dict | None = None, /, **common):
    """unsaved() for many rows that share `related` and some values (`common`): what
    they share is resolved once, and each call of the returned function builds one
    row from the rest, as unsaved(model, related, **common, **values) would."""
    related = related or {}
    if _init_receivers(model):
        return lambda **values: model(**related, **common, **values)
    plan = _UNSAVED.get(model)
    if plan is None:
        plan = _UNSAVED[model] = _unsaved_plan(model)
    constants, factories, names = plan
    if not names.issuperset(common):
        raise TypeError(f"{model.__name__}: unknown fields {sorted(set(common) - names)}")
    shared = {**constants, **common}
    given = set(common)  # no default is made for these
    cached = []
    for name, instance in related.items():
        field = model._meta.get_field(name)
        shared[field.attname] = None if instance is None else instance.pk
        given.add(field.attname)
        cached.append((field, instance))
    factories = [(name, default) for name, default in factories if name not in given]

    def make(**values):
        if not names.issuperset(values):
            raise TypeError(f"{model.__name__}: unknown fields {sorted(set(values) - names)}")
        row = model.__new__(model)
        row._state = ModelState()
        fields = row.__dict__
        fields.update(shared)
        for name, default in factories:
            if name not in values:
                fields[name] = default()
        fields.update(values)
        for field, instance in cached:
            field.set_cached_value(row, instance)
        return row

    return make


def loaded(queryset) -> list:
    """list(queryset) for a plain read of a model (no only(), defer(), select_related()
    or annotations), the instances built from their rows directly: Model.__init__ (a
    setattr per column, two signals sent) is half the cost of reading a wide table. The
    values are the same (values_list applies the fields' converters as model iteration
    does); with a pre_init/post_init receiver listening, it is list(queryset)."""
    model = queryset.model
    if _init_receivers(model):
        return list(queryset)
    names = [field.attname for field in model._meta.concrete_fields]
    db = queryset.db
    rows = []
    for values in queryset.values_list(*names):
        row = model.__new__(model)
        row._state = ModelState()
        row._state.adding = False
        row._state.db = db
        row.__dict__.update(zip(names, values, strict=True))
        rows.append(row)
    return rows


def _init_receivers(model) -> bool:
    """Whether anything listens to the model's construction: then it must go through
    Model.__init__, which sends pre_init and post_init."""
    return signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)


# For unsaved(): per model, the fields' defaults that are one value (get_default()
# returns the same one every time: no default, or a plain value), those made anew for
# each row (a callable default, a database default), and every attname.
_UNSAVED: dict[type, tuple[dict, list, frozenset]] = {}


def _unsaved_plan(model) -> tuple[dict, list, frozenset]:
    constants, factories = {}, []
    for field in model._meta.concrete_fields:
        made = (field.has_default() and callable(field.default)) or field.has_db_default()
        if made:
            factories.append((field.attname, field.get_default))
        else:
            constants[field.attname] = field.get_default()
    return constants, factories, frozenset(f.attname for f in model._meta.concrete_fields)


def _dumps(value) -> bytes:
    # orjson: several times faster than json.dumps, the largest cost of COPYing an
    # outbox. Datetimes still refuse to serialise, as with json.dumps.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME)


def _json_text(value) -> str | None:
    if value is None:
        return None  # SQL NULL, as save() stores a None
    if not value and type(value) in _EMPTY:  # most rows' payload: {}
        return _EMPTY[type(value)]
    return _dumps(value).decode()


_EMPTY = {dict: "{}", list: "[]"}


def _json_column(column: tuple) -> list:
    """Each value's JSON text, each object serialised once: a notice's recipients in
    one zone share one snapshot dict. COPY reads the text (escaped by psycopg) as the
    column's input, as from a Jsonb adapter."""
    distinct = {id(value): value for value in column}  # the column keeps each id's object
    texts = {key: _json_text(value) for key, value in distinct.items()}
    return list(map(texts.__getitem__, map(id, column)))


def _instant_column(column: tuple) -> list:
    """Each UTC datetime as text (str(), as psycopg's dumper writes it), once per
    distinct instant: a sweep's rows share a few, and psycopg's writing of one cost
    more than the rest of a row. Other values (None: NULL) are left to psycopg. Only
    UTC: two wall times of one zone an hour apart in a DST fold compare (and hash)
    equal, so as keys they would share one text."""
    texts = {
        value: str(value)
        for value in set(column)
        if type(value) is datetime and value.tzinfo is UTC
    }
    return list(map(texts.get, column, column))


def _converter(field):
    """A whole column's conversion, or None for values psycopg adapts itself (most):
    Django's own get_db_prep_save is much slower, and these models use few field types."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return _json_column
    if kind == "DateTimeField":
        return _instant_column
    if kind in _PLAIN:
        return None
    return lambda column: [field.get_db_prep_save(value, connection) for value in column]


_PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DecimalField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "EmailField",
}


def append_rows_ignoring_duplicates(model, objects: list) -> int:
    """Like append_rows, but rows that hit a unique constraint are skipped.

    COPY cannot skip conflicts, so it runs in a savepoint and, if any row
    collides (rare: a dedup key used before), the batch goes again through
    INSERT ... ON CONFLICT DO NOTHING.
    """
    if not objects:
        return 0
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                return append_rows(model, objects)
        except (IntegrityError, psycopg.errors.IntegrityError):
            pass  # COPY on the raw cursor raises psycopg's own error
    model.objects.bulk_create(objects, ignore_conflicts=True, batch_size=1000)
    return len(objects)


def append_dicts(model, rows: list[dict]) -> int:
    """append_rows for rows given as {attname: value} dicts: no model instances built.

    Missing fields take their default; auto_now_add fields the current time.
    """
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=1000)
        return len(rows)
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    plan = []
    for field in fields:
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            fallback = now
        else:
            fallback = field.get_default()  # "" for text fields, None for nullable ones
        plan.append((field.attname, fallback))
    values = [[row.get(name, fallback) for name, fallback in plan] for row in rows]
    _copy(model, fields, values)
    return len(rows)
