"""A table to export: typed, labelled columns and a stream of rows, read once by one writer.

Every writer (CSV, XLSX, .dta, .sav) reads this and nothing else, so each format describes the same data the
same way. A row is a tuple of Python values in column order: str, int, float or Decimal, datetime.date,
bool, or None for missing. A choice column holds the code; its labels come from `choices`.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field


class ColumnType:
    STRING = "string"  # free text or an identifier (the study ID)
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"  # exported as 1/0 with the labels yes/no
    CHOICE = "choice"  # a code from `choices`
    ALL = (STRING, INTEGER, DECIMAL, DATE, BOOLEAN, CHOICE)


@dataclass(frozen=True)
class Column:
    """One variable: its name (as in the data dictionary), label in both languages, type, unit and choices.

    `free_text`: typed by a person, so it may name someone; the de-identified export leaves it out.
    `key`: an internal identifier (a case number) the same in every export: hashed when de-identified, so
    that two de-identified exports cannot be linked through it.
    `choices`: ((code, {"en": ..., "zh-hans": ...}), ...) for a CHOICE column, in the form's order.
    """

    name: str
    label: dict
    type: str
    unit: str = ""
    choices: tuple[tuple[str, dict], ...] = ()
    free_text: bool = False
    key: bool = False

    def __post_init__(self):
        if self.type not in ColumnType.ALL:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")


@dataclass
class Table:
    """A named table: its columns and its rows (an iterable read once, streamed from the database)."""

    name: str
    columns: tuple[Column, ...]
    rows: Iterable[tuple] = field(repr=False)
    label: dict = field(default_factory=dict)  # {"en": ..., "zh-hans": ...}
