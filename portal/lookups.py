"""Lookups the ORM lacks."""

from __future__ import annotations

from django.db.models import Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):
    """`column = ANY(%s)` with the values as one array parameter, on PostgreSQL:
    `filter(AnyOf(F("incident_id"), ids))`. `__in` makes one parameter of each value,
    each prepared by the field and quoted into the statement: about 2 ms of Python for
    a sweep's batch of 500 ids, five times the query's own cost. Elsewhere, it is `IN`.

    For `filter()` on a NOT NULL column only: in `exclude()`, a NULL row would be left
    out, where `__in` keeps it."""

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs, rhs):
        # Read once: a queryset compiles again for each evaluation, and values given
        # as a generator would be empty the second time.
        super().__init__(lhs, list(rhs))

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return compiler.compile(In(self.lhs, self.rhs))
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, self.rhs)
