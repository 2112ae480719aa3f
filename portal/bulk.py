"""Append many new rows fast: COPY on PostgreSQL, bulk_create elsewhere.

For append-only rows (timeline events, threshold firings): constraints still
apply (a duplicate firing fails the COPY and the transaction), defaults and
auto_now_add fields are filled as save() would; primary keys are set only when asked
(`with_ids`, one sequence query).
"""

from __future__ import annotations

from datetime import datetime
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
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    # Values are read straight off the objects (one attrgetter for the row); fields
    # that fill themselves on save (auto_now_add) get the statement's instant, and
    # only values psycopg cannot adapt itself (JSON) go through a converter.
    filled = [
        f.attname
        for f in fields
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False)
    ]
    now = timezone.now()  # one instant for the statement, as save() would set each
    names = [f.attname for f in fields]
    # Read from the instance's __dict__: a foreign key's attname is a descriptor
    # (a Python call per value); objects lacking a value there take getattr.
    from_dict, from_attrs = itemgetter(*names), attrgetter(*names)
    converting = [
        (i, convert)
        for i, convert in enumerate(_converter(f) for f in fields)
        if convert is not _same
    ]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                for name in filled:
                    setattr(obj, name, now)
                try:
                    row = list(from_dict(obj.__dict__))
                except KeyError:
                    row = list(from_attrs(obj))
                for i, convert in converting:
                    row[i] = convert(row[i])
                copy.write_row(row)
    return len(objects)


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
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return lambda **values: model(**related, **common, **values)
    plan = _UNSAVED.get(model)
    if plan is None:
        plan = _UNSAVED[model] = _unsaved_plan(model)
    constants, factories, names = plan
    if not names.issuperset(common):
        raise TypeError(f"{model.__name__}: unknown fields {sorted(set(common) - names)}")
    shared = {**constants, **common}
    cached = []
    for name, instance in related.items():
        field = model._meta.get_field(name)
        shared[field.attname] = None if instance is None else instance.pk
        cached.append((field, instance))
    factories = [(name, default) for name, default in factories if name not in common]

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


def _same(value):
    return value


def _dumps(value) -> bytes:
    # orjson: several times faster than json.dumps, the largest cost of COPYing an
    # outbox. Datetimes still refuse to serialise, as with json.dumps.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME)


def _json_once():
    """A JSON converter for one COPY that serialises each object once: a notice's
    recipients in one zone share one snapshot dict. It gives the JSON text, which COPY
    writes (escaped) as the column's input, as a Jsonb adapter would."""
    seen: dict[int, tuple[object, str]] = {}

    def convert(value):
        if value is None:
            return None
        if not value and type(value) in _EMPTY:  # most rows' payload: {}
            return _EMPTY[type(value)]
        kept = seen.get(id(value))
        if kept is None or kept[0] is not value:
            kept = seen[id(value)] = (value, _dumps(value).decode())
        return kept[1]

    return convert


_EMPTY = {dict: "{}", list: "[]"}


def _instant_once():
    """A datetime converter for one COPY: the rows of a sweep share a few instants,
    and writing one (str(), as psycopg's dumper does) costs more than the rest of a
    row. The same text reaches the server, written once per instant."""
    seen: dict[int, tuple[object, str]] = {}

    def convert(value):
        if type(value) is not datetime:
            return value  # None (NULL), or whatever psycopg adapts itself
        kept = seen.get(id(value))
        if kept is None or kept[0] is not value:
            kept = seen[id(value)] = (value, str(value))
        return kept[1]

    return convert


def _converter(field):
    """psycopg adapts plain values itself; only JSON needs wrapping. Django's own
    get_db_prep_save is much slower, and these models use no other field types."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return _json_once()
    if kind == "DateTimeField":
        return _instant_once()
    if kind in _PLAIN:
        return _same
    return lambda value: field.get_db_prep_save(value, connection)


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
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    plan = []
    for field in fields:
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            fallback = now
        else:
            fallback = field.get_default()  # "" for text fields, None for nullable ones
        plan.append((field.attname, fallback, _converter(field)))
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([convert(row.get(name, fallback)) for name, fallback, convert in plan])
    return len(rows)
