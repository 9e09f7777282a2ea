"""``TokenArrayField``: the blind index of a result (server/results/sealing.py), a set of 64-bit integers.

On PostgreSQL a ``bigint[]`` with a GIN index (migration 0009), matched with ``@>`` (holds every token) — the planner
keeps array statistics, so a common name walks the time index and a rare one the GIN index. On SQLite (the embedded
default) a JSON array matched through ``json_each``: the same answers, without an index.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models


class TokenArrayField(models.Field):
    description = "a set of 64-bit blind-index tokens"

    def db_type(self, connection: Any) -> str:
        return "bigint[]" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        tokens = sorted({int(token) for token in value})
        return tokens if connection.vendor == "postgresql" else json.dumps(tokens)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)

    def to_python(self, value: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)


@TokenArrayField.register_lookup
class Holds(models.Lookup):
    """``name_index__holds=[t1, t2]``: the row's tokens include every one of them."""

    lookup_name = "holds"

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [self.lhs.output_field.get_db_prep_value(value, connection)]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @> ({rhs})::bigint[]", [*lhs_params, *rhs_params]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        sql = (
            f"NOT EXISTS (SELECT 1 FROM json_each({rhs}) AS wanted "
            f"WHERE wanted.value NOT IN (SELECT held.value FROM json_each({lhs}) AS held))"
        )
        return sql, [*rhs_params, *lhs_params]
