"""Bulk inserts from JSON documents: many rows in one statement, unpacked by PostgreSQL's json_to_recordset.

For the demo seeders (crf, followup), which store years of synthetic data entry at once. Why not bulk_create:
compiling every value of every row in Python cost about a third of the seeding time at 56,000 participants,
and auto_now / auto_now_add would stamp two years of data entry with today's time. The statements still go
through Django's cursor, so pghistory attaches the audit context (who, why) to every event row as for any
other write.
"""

import json
from collections.abc import Mapping, Sequence

from django.db import connection

# Rows per INSERT statement. A batch travels as one JSON document that PostgreSQL unpacks with
# json_to_recordset; 2,000 form records (about 1 kB each) keep that document and its unpacked rows within the
# default work_mem of 4 MB (nothing spills to disk), while 56,000 participants take a few hundred statements.
BATCH_SIZE = 2000


def recordset_insert_sql(
    model,
    columns: Sequence[str],
    *,
    types: Mapping[str, str] | None = None,
    into: Sequence[str] | None = None,
    select: Sequence[str] | None = None,
    joins: str = "",
    returning: Sequence[str] = (),
) -> str:
    """INSERT INTO the model's table ... SELECT ... FROM json_to_recordset(%s::json) AS r(<columns>).

    `columns` are the keys of each JSON row, typed as the model's column of that name unless `types` says
    otherwise. The rows' values go into the columns `into` (default: `columns`) from the expressions `select`
    (default: r.<column>), over `joins` (SQL appended after the recordset, which is aliased r).
    """
    quote = connection.ops.quote_name
    fields = {f.column: f for f in model._meta.concrete_fields}
    types = types or {}
    definition = ", ".join(
        f"{quote(c)} {types[c] if c in types else fields[c].db_type(connection)}" for c in columns
    )
    into = columns if into is None else into
    select = [f"r.{quote(c)}" for c in columns] if select is None else select
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in into)}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM json_to_recordset(%s::json) AS r({definition}){joins}"
    )
    if returning:
        sql += f" RETURNING {', '.join(quote(c) for c in returning)}"
    return sql


def json_batches(rows: Sequence[Mapping], *, size: int = BATCH_SIZE) -> list[str]:
    """The rows as JSON documents of at most `size` rows each, one per statement (pure: runs in a worker)."""
    return [
        json.dumps(rows[start : start + size], ensure_ascii=False, separators=(",", ":"))
        for start in range(0, len(rows), size)
    ]


def bulk_insert(model, rows: Sequence[Mapping], *, returning: Sequence[str] = ()) -> list[tuple]:
    """Insert rows (dicts of column values, all with the keys of the first) in batches; the `returning`
    columns of every inserted row. Call in a transaction."""
    if not rows:
        return []
    sql = recordset_insert_sql(model, list(rows[0]), returning=returning)
    found = []
    with connection.cursor() as cursor:
        for batch in json_batches(rows):
            cursor.execute(sql, [batch])
            if returning:
                found += cursor.fetchall()
    return found
