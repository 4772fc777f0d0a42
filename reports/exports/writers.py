"""The tabular writers: CSV, XLSX, Stata .dta and SPSS .sav, each from a Table (table.py) and nothing else.

- **CSV** streams row by row and **XLSX** writes in XlsxWriter's constant-memory mode: memory stays flat
  however many rows. **.dta and .sav** go through pyreadstat, which takes a DataFrame: their rows are typed
  into columns a batch at a time first (memory linear in the table's size, accepted for these two formats).
- Values are codes (choice codes, booleans 1/0, ISO dates), except in CSV with labels. .dta and .sav carry the
  labels as variable and value labels in the export's language; XLSX shows each column's label as a comment on
  its header cell. An empty cell is a missing value (None, or a NaN a computation left).
- Stata value labels need integers: a choice column is coded 1..k in the order of its choices
  (`choice_numbers`, also used by the data dictionary), the same in .dta and .sav.
- Names too long or not legal in a format are renamed deterministically and uniquely (`dta_names`,
  `sav_names`, `sheet_names`: the mappings the manifest prints); a legal name is always kept as it is.
"""

import csv
import datetime
import decimal
import hashlib
import itertools
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from os import PathLike
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyreadstat
import xlsxwriter
from django.utils import translation
from django.utils.translation import gettext

from trial.i18n import localized

from .table import Column, ColumnType, Table

BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark: Excel reads a CSV as UTF-8 only when it starts with it

EXCEL_ROWS = 1_048_576  # rows in one Excel sheet, the header included
EXCEL_SHEET_NAME = 31  # characters
_SHEET_ILLEGAL = re.compile(r"[\[\]:*?/\\]")

STATA_NAME = 32  # characters, for variables and for value-label sets
STATA_LABEL = 80  # characters: variable labels and the data label (format 118 keeps 4 bytes a character)
STATA_VALUE_LABEL = 32_000  # characters
# Stata's reserved names (help reswords); readstat also refuses "str" followed by a digit (str1, str80x).
_STATA_RESERVED = frozenset(
    {"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n", "_N"}
    | {"_pi", "_pred", "_rc", "_se", "_skip", "strL", "using", "with"}
)
_STATA_LONG = (-2_147_483_647, 2_147_483_620)  # a Stata long's values: the ones above are its missing codes

SPSS_NAME = 64  # bytes (our names are ASCII, so characters)
SPSS_LABEL = 256  # bytes of UTF-8: variable labels
SPSS_VALUE_LABEL = 120  # bytes
SPSS_FILE_LABEL = 64  # bytes
# SPSS's reserved words, in any case (SPSS ignores the case of names).
_SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}


def _missing(value) -> bool:
    """None, or a NaN (float or Decimal) a computation left: written as an empty cell in every format."""
    return value is None or value != value  # only NaN differs from itself


def _rows(table: Table) -> Iterator[tuple]:
    """The table's rows, read once, each checked to hold a value per column (a short row shifts the rest)."""
    width = len(table.columns)
    for number, row in enumerate(table.rows, start=1):
        if len(row) != width:
            raise ValueError(f"table {table.name}: row {number} has {len(row)} values for {width} columns")
        yield row


def _yes_no(language: str) -> tuple[str, str]:
    """The labels of a boolean's 1 and 0, in `language` (the catalogue's "yes"/"no": 是/否)."""
    with translation.override(language):
        return gettext("yes"), gettext("no")


def _cut(text: str, *, chars: int | None = None, utf8: int | None = None) -> str:
    """`text` cut to at most `chars` characters and `utf8` bytes of UTF-8, never inside a character."""
    if chars is not None:
        text = text[:chars]
    if utf8 is not None:
        # "ignore" drops the first bytes of a character the cut went through.
        text = text.encode()[:utf8].decode("utf-8", "ignore")
    return text


def choice_numbers(column: Column) -> dict[str, int]:
    """A choice column's codes numbered 1..k in the order of its choices: how .dta and .sav store them."""
    return {code: number for number, (code, _label) in enumerate(column.choices, start=1)}


def _choice_labels(column: Column, language: str) -> dict[str, str]:
    return {code: localized(label, language) for code, label in column.choices}


def _has_value_labels(column: Column) -> bool:
    return column.type == ColumnType.BOOLEAN or (column.type == ColumnType.CHOICE and bool(column.choices))


def _lookup(column: Column, mapping: dict, *, number: bool = False) -> Callable:
    """mapping[value] for a choice code, None for None. A code the column does not list (stored under an
    earlier version of the form) is kept, never a failed export: as itself where labels are written, or
    with the next free number added to `mapping` (and so to the value labels, labelled by the code)."""

    def look_up(value):
        if value is None:
            return None
        found = mapping.get(value)
        if found is None:
            if not number:
                return value
            found = mapping[value] = max(mapping.values(), default=0) + 1
        return found

    return look_up


# CSV


def _number_text(value):
    """A number without float noise: a float in the shortest text that reads back as the same float (repr,
    which the csv module applies to a float: 22.5, 0.30000000000000004), a Decimal as written (never in
    exponent form), an integer as is; missing (None, NaN) as empty."""
    if type(value) is float:  # the usual case first, past the numbers ABCs' slow isinstance
        return value if value == value else ""
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        return "" if value.is_nan() else format(value, "f")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return _number_text(float(value))  # a float subclass (numpy's)


def _csv_cell(column: Column, *, labels: bool, language: str, yes_no: tuple[str, str]) -> Callable | None:
    """How one column's value becomes its CSV text; None where the csv module's own text is already right
    (strings and codes as they are, integers, ISO dates; None as an empty field)."""
    if column.type == ColumnType.BOOLEAN:
        yes, no = yes_no
        # A dict's own lookup: called per cell, a C call is a third of a lambda's cost (1 and 0 hash as
        # True and False, so integers read the same).
        return {True: yes, False: no, None: ""}.__getitem__
    if column.type == ColumnType.DECIMAL:
        return _number_text
    if column.type == ColumnType.CHOICE and labels:
        return _lookup(column, _choice_labels(column, language))
    return None


def csv_write(
    table: Table, out: BinaryIO, *, labels: bool = False, language: str = "en", bom: bool = False
) -> int:
    """Write `table` to `out` (a binary file open for writing, left open) as UTF-8 CSV; return its rows.

    Streams: one row is held at a time. The header is the column names. Raw: choice codes, booleans 1/0, ISO
    dates, numbers without float noise, missing as empty. `labels`: choices and booleans as their labels in
    `language`. `bom`: start with UTF-8's byte-order mark, so that Excel reads the file as UTF-8.
    """
    yes_no = _yes_no(language) if labels else ("1", "0")
    cells = [_csv_cell(column, labels=labels, language=language, yes_no=yes_no) for column in table.columns]
    # Numbers are checked in the loop, not called per cell: a float or None (nearly every value) is already
    # what the csv module writes (repr, or empty); only a Decimal, an integer type or a NaN goes through
    # _number_text.
    numbers = [index for index, cell in enumerate(cells) if cell is _number_text]
    converted = [
        (index, cell) for index, cell in enumerate(cells) if cell is not None and cell is not _number_text
    ]
    if bom:
        out.write(BOM)
    # Not io.TextIOWrapper: closing or collecting it would close the caller's file.
    sink = _Utf8Writer(out)
    writer = csv.writer(sink)
    writer.writerow([column.name for column in table.columns])
    count = 0
    for row in _rows(table):
        if converted or numbers:
            row = list(row)
            for index, cell in converted:
                row[index] = cell(row[index])
            for index in numbers:
                value = row[index]
                if value is not None and (type(value) is not float or value != value):
                    row[index] = _number_text(value)
        writer.writerow(row)
        count += 1
    return count


class _Utf8Writer:
    """What csv.writer writes to: each line encoded to UTF-8 and written to the binary file as it comes."""

    def __init__(self, out: BinaryIO):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text.encode())


# XLSX


def sheet_names(names: Iterable[str]) -> dict[str, str]:
    """Excel sheet names for table names: without []:*?/\\, at most 31 characters, not beginning or ending
    with an apostrophe, not "History" (Excel's own), unique in any case (a clash gets ~2, ~3...)."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if name in result:
            raise ValueError(f"two tables are named {name}")
        result[name] = _sheet_name(name, taken)
    return result


def _sheet_name(name: str, taken: set[str]) -> str:
    """The sheet name for `name` that is not in `taken` (casefolded), added to it."""
    stem = _SHEET_ILLEGAL.sub("_", name).strip("'") or "table"
    if stem.casefold() == "history":
        stem += "_"
    candidate = stem[:EXCEL_SHEET_NAME].strip("'")
    for number in itertools.count(2):
        if candidate.casefold() not in taken:
            break
        suffix = f"~{number}"
        candidate = stem[: EXCEL_SHEET_NAME - len(suffix)].strip("'") + suffix
    taken.add(candidate.casefold())
    return candidate


def _xlsx_cell(sheet, column: Column, date_format) -> Callable[[int, int, object], object]:
    """How one column's (present) value is written into its cell: numbers as numbers, dates as date cells."""
    if column.type == ColumnType.DATE:
        return lambda row, col, value: sheet.write_datetime(row, col, value, date_format)
    if column.type == ColumnType.BOOLEAN:
        return lambda row, col, value: sheet.write_number(row, col, 1 if value else 0)
    if column.type in (ColumnType.INTEGER, ColumnType.DECIMAL):
        return lambda row, col, value: sheet.write_number(row, col, float(value))
    # write_string, never write: a text beginning with "=" stays text, not a formula.
    return lambda row, col, value: sheet.write_string(row, col, str(value))


def xlsx_write(tables: Iterable[Table], path: str | PathLike, *, language: str = "en") -> dict[str, int]:
    """Write the tables to one workbook at `path`, a sheet each (`sheet_names`); return each table's rows.

    XlsxWriter's constant-memory mode writes each row out once the next begins, so memory stays flat in the
    number of rows. Values are the codes (the data dictionary gives their labels); dates are date cells shown
    yyyy-mm-dd; the header row (the column names, each label in `language` as the cell's comment) is frozen.
    """
    counts: dict[str, int] = {}
    taken: set[str] = set()  # sheet names so far: named as they come, as sheet_names names them
    options = {"constant_memory": True, "nan_inf_to_errors": True}  # an infinity shows #DIV/0!, not a crash
    with xlsxwriter.Workbook(str(path), options) as workbook:
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        header_format = workbook.add_format({"bold": True})
        for table in tables:  # one at a time: a table is read only once the one before is written
            if table.name in counts:
                raise ValueError(f"two tables are named {table.name}")
            sheet = workbook.add_worksheet(_sheet_name(table.name, taken))
            counts[table.name] = _xlsx_sheet(sheet, table, language, date_format, header_format)
    return counts


def _xlsx_sheet(sheet, table: Table, language: str, date_format, header_format) -> int:
    sheet.freeze_panes(1, 0)
    cells = []
    for index, column in enumerate(table.columns):
        sheet.write_string(0, index, column.name, header_format)
        label = localized(column.label, language)
        if label:
            sheet.write_comment(0, index, label)
        if column.type == ColumnType.DATE:
            sheet.set_column(index, index, 11)  # wide enough for yyyy-mm-dd, not ########
        cells.append(_xlsx_cell(sheet, column, date_format))
    count = 0
    for count, row in enumerate(_rows(table), start=1):
        if count >= EXCEL_ROWS:
            raise ValueError(f"table {table.name}: more rows than an Excel sheet holds ({EXCEL_ROWS - 1})")
        for index, (cell, value) in enumerate(zip(cells, row, strict=True)):
            if not _missing(value):
                cell(count, index, value)
    return count


# Names in Stata and SPSS

_STEM_ILLEGAL = re.compile(r"[^A-Za-z0-9_]")
_STATA_LEGAL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPSS_LEGAL = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_STATA_TYPE = re.compile(r"str\d")  # Stata's string types (str1..str2045); readstat refuses any str<digit>


def dta_names(columns: Sequence[Column]) -> dict[str, str]:
    """The Stata name of each column ({original: written}, in column order): at most 32 ASCII letters, digits
    or underscores, not reserved, unique.

    pyreadstat names the value-label set of the k-th labelled column (k from 0) `<name><k>`, and Stata holds
    label names to the same 32 characters: a labelled column's name leaves room for k, and its label name must
    not repeat another's (odi_1 with k=10 and odi_11 with k=0 would both make odi_110).
    """
    limits, label_numbers, labelled = [], [], 0
    for column in columns:
        if _has_value_labels(column):
            limits.append(STATA_NAME - len(str(labelled)))
            label_numbers.append(str(labelled))
            labelled += 1
        else:
            limits.append(STATA_NAME)
            label_numbers.append(None)

    def legal(name: str) -> bool:
        reserved = name in _STATA_RESERVED or _STATA_TYPE.match(name)
        return bool(_STATA_LEGAL.fullmatch(name)) and not reserved

    def claims(index: int, name: str) -> set:
        label_set = label_numbers[index]
        return {("variable", name)} | ({("label", name + label_set)} if label_set is not None else set())

    return _names(columns, limits=limits, legal=legal, claims=claims)


def sav_names(columns: Sequence[Column]) -> dict[str, str]:
    """The SPSS name of each column ({original: written}, in column order): at most 64 bytes, ASCII letters,
    digits and underscores beginning with a letter, not reserved, unique in any case (SPSS ignores it)."""

    def legal(name: str) -> bool:
        return _SPSS_LEGAL.fullmatch(name) is not None and name.upper() not in _SPSS_RESERVED

    return _names(
        columns, limits=[SPSS_NAME] * len(columns), legal=legal, claims=lambda index, name: {name.casefold()}
    )


def _names(
    columns: Sequence[Column], *, limits: list[int], legal: Callable, claims: Callable
) -> dict[str, str]:
    """Keep every legal name that fits its limit and claims nothing taken (first come, in column order); then
    give each other column its name made legal and cut to fit, or, when that is taken, cut shorter and ended
    with 4 hex digits of its name's SHA-256 (then a counter).

    Legal names are kept before any other is made, so a column is renamed only for its own name (never because
    another was shortened onto it), and the same columns give the same names on every run.
    """
    originals = [column.name for column in columns]
    if len(set(originals)) != len(originals):
        raise ValueError("two columns have the same name")
    taken: set = set()
    written: dict[str, str] = {}
    for index, name in enumerate(originals):
        if len(name) <= limits[index] and legal(name) and not claims(index, name) & taken:
            taken |= claims(index, name)
            written[name] = name
    for index, name in enumerate(originals):
        if name in written:
            continue
        stem = _STEM_ILLEGAL.sub("_", name)
        if not re.match(r"[A-Za-z]", stem) or _STATA_TYPE.match(stem):
            stem = "v" + stem  # a letter first, and not a Stata string type: legal in both formats
        digest = hashlib.sha256(name.encode()).hexdigest()[:4]
        for suffix in itertools.chain(("", f"_{digest}"), (f"_{digest}{n}" for n in itertools.count(2))):
            candidate = stem[: limits[index] - len(suffix)] + suffix
            if legal(candidate) and not claims(index, candidate) & taken:
                break
        taken |= claims(index, candidate)
        written[name] = candidate
    return {name: written[name] for name in originals}


# Stata .dta and SPSS .sav

GATHER_ROWS = 2_000  # rows held as Python objects at once, before their columns are typed (some MB)
_STATA_EPOCH = datetime.date(1960, 1, 1).toordinal()  # Stata dates (%td) count days from it
_SPSS_EPOCH = datetime.date(1582, 10, 14).toordinal()  # SPSS dates count seconds from it
_INTEGRAL = (ColumnType.INTEGER, ColumnType.BOOLEAN, ColumnType.CHOICE)


def _part(column: Column, values: tuple, date_number: Callable, code: Callable):
    """A batch of the column's values typed: text as a list, everything else as doubles (NaN for missing)."""
    kind = column.type
    if kind == ColumnType.STRING:
        return [None if value is None else str(value) for value in values]
    if kind == ColumnType.DATE:
        numbers = [math.nan if value is None else date_number(value) for value in values]
    elif kind == ColumnType.CHOICE:
        numbers = [math.nan if value is None else code(value) for value in values]
    elif kind == ColumnType.BOOLEAN:
        numbers = [math.nan if value is None else (1.0 if value else 0.0) for value in values]
    else:
        numbers = [math.nan if _missing(value) else float(value) for value in values]
    return np.array(numbers, dtype=np.float64)


def _whole(column: Column, parts: list):
    """The column's typed batches as one array for pyreadstat: text as objects; integers, booleans and choices
    as Int32 (a Stata long) when they fit, else doubles (exact up to 2**53); the rest doubles."""
    if column.type == ColumnType.STRING:
        return pd.Series(list(itertools.chain.from_iterable(parts)), dtype=object)
    numbers = np.concatenate(parts) if parts else np.empty(0)
    present = numbers[~np.isnan(numbers)]
    if column.type in _INTEGRAL and (
        not present.size or (present.min() >= _STATA_LONG[0] and present.max() <= _STATA_LONG[1])
    ):
        return pd.array(numbers, dtype="Int32")
    return numbers


def _frame(table: Table, names: dict[str, str], *, language: str, date_number: Callable):
    """The table as a DataFrame under the written names, its variable labels and value labels (uncut, in
    `language`) and its row count.

    Rows are read GATHER_ROWS at a time and typed column by column (a double takes 8 bytes, a Python float 32
    and its place in a list 8 more), so the whole table is never held as Python objects.
    """
    columns = table.columns
    numbers = [choice_numbers(column) for column in columns]  # grown by any code the choices do not list
    codes = [_lookup(column, mapping, number=True) for column, mapping in zip(columns, numbers, strict=True)]
    parts: list[list] = [[] for _ in columns]
    rows, count = _rows(table), 0
    while batch := list(itertools.islice(rows, GATHER_ROWS)):
        count += len(batch)
        for index, values in enumerate(zip(*batch, strict=True)):
            parts[index].append(_part(columns[index], values, date_number, codes[index]))
    yes, no = _yes_no(language)
    data, variable_labels, value_labels = {}, {}, {}
    for column, column_parts, mapping in zip(columns, parts, numbers, strict=True):
        name = names[column.name]
        data[name] = _whole(column, column_parts)
        column_parts.clear()  # the batches are copied: let them go before the next column is joined
        variable_labels[name] = localized(column.label, language)
        if column.type == ColumnType.BOOLEAN:
            value_labels[name] = {1: yes, 0: no}
        elif _has_value_labels(column):
            labels = _choice_labels(column, language)
            value_labels[name] = {number: labels.get(code, code) for code, number in mapping.items()}
    return pd.DataFrame(data, copy=False), variable_labels, value_labels, count


def dta_write(table: Table, path: str | PathLike, *, language: str = "en") -> int:
    """Write `table` as a Stata .dta (format 118: Stata 14 and later, UTF-8) at `path`; return its rows.

    Names from `dta_names`; variable labels and the data label in `language` (80 characters); choices coded by
    `choice_numbers` and booleans 1/0, both with value labels; dates as Stata dates (%td); strings past 2,045
    bytes as strL. A missing string is written empty (Stata has no missing string).
    """
    names = dta_names(table.columns)
    frame, variable_labels, value_labels, count = _frame(
        table, names, language=language, date_number=lambda day: float(day.toordinal() - _STATA_EPOCH)
    )
    pyreadstat.write_dta(
        frame,
        path,
        file_label=_cut(localized(table.label, language), chars=STATA_LABEL),
        column_labels={name: _cut(text, chars=STATA_LABEL) or None for name, text in variable_labels.items()},
        version=14,  # format 118: pyreadstat's default (119) is for Stata/MP's 32,767+ variables only
        variable_value_labels={
            name: {number: _cut(text, chars=STATA_VALUE_LABEL) for number, text in labels.items()}
            for name, labels in value_labels.items()
        },
        variable_format={names[c.name]: "%td" for c in table.columns if c.type == ColumnType.DATE},
    )
    return count


def sav_write(table: Table, path: str | PathLike, *, language: str = "en") -> int:
    """Write `table` as an SPSS .sav (UTF-8, row-compressed as SPSS writes it) at `path`; return its rows.

    Names from `sav_names`; variable labels (256 bytes), value labels (120 bytes) and the file label (64
    bytes) in `language`; choices coded by `choice_numbers` (as in .dta) and booleans 1/0 with value labels;
    dates as SPSS dates (DATE11); choices, booleans and strings nominal, numbers and dates scale.
    """
    names = sav_names(table.columns)
    frame, variable_labels, value_labels, count = _frame(
        table, names, language=language, date_number=lambda day: (day.toordinal() - _SPSS_EPOCH) * 86_400.0
    )
    nominal = (ColumnType.STRING, ColumnType.CHOICE, ColumnType.BOOLEAN)
    # The bytes are cut here on a character's boundary; readstat would cut the file label inside one.
    pyreadstat.write_sav(
        frame,
        path,
        file_label=_cut(localized(table.label, language), utf8=SPSS_FILE_LABEL),
        column_labels={name: _cut(text, utf8=SPSS_LABEL) or None for name, text in variable_labels.items()},
        row_compress=True,
        variable_value_labels={
            name: {number: _cut(text, utf8=SPSS_VALUE_LABEL) for number, text in labels.items()}
            for name, labels in value_labels.items()
        },
        variable_measure={
            names[column.name]: "nominal" if column.type in nominal else "scale" for column in table.columns
        },
        variable_format={names[c.name]: "DATE11" for c in table.columns if c.type == ColumnType.DATE},
    )
    return count
