"""A CRF field's value read from a record's JSON in SQL, typed there, as export columns: shared by the
analysis dataset and the long tables."""

import datetime
import json

from .labels import label_join
from .table import Column
from .table import ColumnType as T

FIELD_TYPES = {
    "integer": T.INTEGER,
    "decimal": T.DECIMAL,
    "date": T.DATE,
    "boolean": T.BOOLEAN,
    "choice": T.CHOICE,
    "text": T.STRING,
    "exam": T.INTEGER,  # the linked trial.ImagingExam's id (never its StudyInstanceUID)
}


def json_value(value):
    return json.loads(value) if isinstance(value, str) else value


def rows_of(value) -> list[dict]:
    """A repeating group's rows as stored: a list of objects (anything else reads as no rows)."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def date_value(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


# How a field's value is read from the record's JSON in SQL, typed there (psycopg's C loaders are many times
# faster than converting in Python), with the number of times the field's code is a parameter. A value of the
# wrong JSON type (never written by the CRF engine, which validates types) reads as missing rather than
# stopping the export. An integer goes through float8 so that 24.0 reads as 24.
CASTS = {
    "integer": ("CASE jsonb_typeof({src} -> %s) WHEN 'number' THEN (({src} ->> %s)::float8)::int8 END", 2),
    "decimal": ("CASE jsonb_typeof({src} -> %s) WHEN 'number' THEN ({src} ->> %s)::float8 END", 2),
    "date": (
        "CASE WHEN {src} ->> %s ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' THEN ({src} ->> %s)::date END",
        2,
    ),
    "boolean": ("CASE jsonb_typeof({src} -> %s) WHEN 'boolean' THEN ({src} ->> %s)::boolean END", 2),
    "choice": ("{src} ->> %s", 1),
    "text": ("{src} ->> %s", 1),
    "exam": ("CASE jsonb_typeof({src} -> %s) WHEN 'number' THEN ({src} ->> %s)::int8 END", 2),
}
# A multiple choice: ticked or not, NULL when the question was not answered (no list).
TICKED = "CASE jsonb_typeof({src} -> %s) WHEN 'array' THEN ({src} -> %s) ? %s END"


def field_select(fields, prefix: str, src: str) -> tuple[list[Column], list[str], list]:
    """The columns of these fields, the SQL expressions reading them from the JSON `src` (an alias's
    data, or a repeating row) and their parameters; shared by the analysis dataset and the long tables."""
    columns, exprs, params = [], [], []
    for spec in fields:
        name = f"{prefix}_{spec.code}"
        if spec.type == "multichoice":
            for choice in spec.choices:
                columns.append(
                    Column(f"{name}___{choice.code}", label_join(spec.label, choice.label), T.BOOLEAN)
                )
                exprs.append(TICKED.format(src=src))
                params += [spec.code, spec.code, choice.code]
            continue
        columns.append(
            Column(
                name,
                spec.label,
                FIELD_TYPES[spec.type],
                unit=spec.unit,
                choices=tuple((c.code, c.label) for c in spec.choices),
                free_text=spec.type == "text",
            )
        )
        template, times = CASTS[spec.type]
        exprs.append(template.format(src=src))
        params += [spec.code] * times
    return columns, exprs, params
