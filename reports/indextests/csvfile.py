"""Reading and judging an uploaded CSV of model outputs, whole: every problem with its line number, and no
row kept if there is one. Pure but for the two reads of the study's vertebrae the caller passes in.

The format (reports/README.md, "Model outputs"): UTF-8 with or without a byte-order mark, a header row,
columns study_id, level, model, version, split and at least one of probability and dice (in any order; other
columns are refused). Line numbers count the header as line 1, as a spreadsheet shows them.
"""

import csv
import io
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from trial.levels import is_level
from trial.models import Cohort

from .models import DatasetSplit, OutputKind

REQUIRED = ("study_id", "level", "model", "version", "split")
VALUES = ("probability", "dice")
MAX_ROWS = 20000  # far above a study's vertebrae (about 276 patients with 1-3 each): a wrong file, not data
MAX_NAME = 64
MAX_VERSION = 32


@dataclass(frozen=True)
class OutputRow:
    line: int
    study_id: str
    level: str
    model: str
    version: str
    split: str
    probability: float | None
    dice: float | None


def csv_decode(raw: bytes) -> str:
    """The file's text: UTF-8, a byte-order mark dropped. InvalidCsv if it is not UTF-8."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidCsv([_("The file is not UTF-8 text (byte %(at)d).") % {"at": error.start + 1}]) from None
    if "\x00" in text:  # no text column can hold it (PostgreSQL): a binary file, not a CSV
        raise InvalidCsv([_("The file holds a NUL byte: it is not a CSV text file.")])
    return text


class InvalidCsv(Exception):
    """The file's problems, each a line of text ("line 7: ...")."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _number(text: str, column: str, line: int, problems: list[str]) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(
            _("line %(line)d: %(column)s %(value)r is not a number")
            % {"line": line, "column": column, "value": text[:40]}
        )
        return None
    if not 0 <= value <= 1:
        problems.append(
            _("line %(line)d: %(column)s %(value)s is outside 0–1")  # noqa: RUF001 -- an en dash, as printed
            % {"line": line, "column": column, "value": text[:40]}
        )
        return None
    return value


def csv_rows(text: str) -> tuple[list[OutputRow], list[str]]:
    """The rows of the CSV `text` that pass the checks of a row alone (shape, level code, split, numbers in
    0-1), and the problems of the others. A header that is wrong is InvalidCsv at once (no row can be read).
    Whether the vertebrae exist is the caller's check (`vertebra_problems`), on the rows returned."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise InvalidCsv([_("line 1: the file is empty; it needs a header row")]) from None
    except csv.Error as error:
        raise InvalidCsv([_("line 1: %(error)s") % {"error": error}]) from None
    problems = []
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        problems.append(_("line 1: missing column(s) %(columns)s") % {"columns": ", ".join(missing)})
    if not any(name in header for name in VALUES):
        problems.append(_("line 1: a probability or a dice column is needed"))
    unknown = [name for name in header if name not in REQUIRED + VALUES]
    if unknown:
        problems.append(_("line 1: unknown column(s) %(columns)s") % {"columns": ", ".join(unknown)[:200]})
    if len(set(header)) != len(header):
        problems.append(_("line 1: a column is named twice"))
    if problems:
        raise InvalidCsv(problems)
    rows, seen = [], {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line (a trailing one, most often)
            if len(rows) >= MAX_ROWS:
                problems.append(_("line %(line)d: more than %(max)d rows") % {"line": line, "max": MAX_ROWS})
                break
            if len(record) != len(header):
                problems.append(
                    _("line %(line)d: %(found)d values for %(expected)d columns")
                    % {"line": line, "found": len(record), "expected": len(header)}
                )
                continue
            row = _row(dict(zip(header, (cell.strip() for cell in record), strict=True)), line, problems)
            if row is None:
                continue
            key = (row.study_id, row.level, row.model, row.version)
            if key in seen:
                problems.append(
                    _(
                        "line %(line)d: %(study_id)s %(level)s %(model)s %(version)s is already on line "
                        "%(first)d"
                    )
                    % {"line": line, "study_id": row.study_id, "level": row.level, "model": row.model,
                       "version": row.version, "first": seen[key]}
                )  # fmt: skip
                continue
            seen[key] = line
            rows.append(row)
    except csv.Error as error:
        problems.append(_("line %(line)d: %(error)s") % {"line": reader.line_num, "error": error})
    if not rows and not problems:
        problems.append(_("line 2: the file has no rows"))
    return rows, problems


def _row(cells: dict[str, str], line: int, problems: list[str]) -> OutputRow | None:
    before = len(problems)
    for name in REQUIRED:
        if not cells[name]:
            problems.append(_("line %(line)d: %(column)s is empty") % {"line": line, "column": name})
    if cells["level"] and not is_level(cells["level"].upper()):
        problems.append(
            _("line %(line)d: level %(level)r is not a vertebral level (T1–L5)")  # noqa: RUF001
            % {"line": line, "level": cells["level"][:20]}
        )
    if cells["split"] and cells["split"].lower() not in DatasetSplit.values:
        problems.append(
            _("line %(line)d: split %(split)r is not one of %(splits)s")
            % {"line": line, "split": cells["split"][:20], "splits": ", ".join(DatasetSplit.values)}
        )
    if len(cells["model"]) > MAX_NAME or len(cells["version"]) > MAX_VERSION or len(cells["study_id"]) > 32:
        problems.append(_("line %(line)d: a value is too long") % {"line": line})
    probability = _number(cells.get("probability", ""), "probability", line, problems)
    dice = _number(cells.get("dice", ""), "dice", line, problems)
    if len(problems) == before and probability is None and dice is None:
        problems.append(_("line %(line)d: neither a probability nor a Dice") % {"line": line})
    if len(problems) > before:
        return None
    return OutputRow(
        line=line,
        study_id=cells["study_id"],
        level=cells["level"].upper(),
        model=cells["model"],
        version=cells["version"],
        split=cells["split"].lower(),
        probability=probability,
        dice=dice,
    )


def kind_problems(rows: list[OutputRow]) -> tuple[dict[tuple[str, str], str], list[str]]:
    """Each (model, version)'s kind: classification if its rows give a probability (every row must), else
    segmentation (every row gives a Dice); and the lines that break this."""
    kinds: dict[tuple[str, str], str] = {}
    for row in rows:
        key = (row.model, row.version)
        if row.probability is not None:
            kinds[key] = OutputKind.CLASSIFICATION
        else:
            kinds.setdefault(key, OutputKind.SEGMENTATION)
    problems = [
        _("line %(line)d: %(model)s %(version)s gives a probability on other lines: give one here too")
        % {"line": row.line, "model": row.model, "version": row.version}
        for row in rows
        if row.probability is None and kinds[(row.model, row.version)] == OutputKind.CLASSIFICATION
    ]
    return kinds, problems


# The splits a centre's cases may carry, by the site's protocol `cohort` (a site without one: any split).
COHORT_SPLITS = {
    "development": {DatasetSplit.TRAIN, DatasetSplit.VALIDATION, DatasetSplit.TEST},
    "external_validation": {DatasetSplit.EXTERNAL},
}


def vertebra_problems(
    rows: list[OutputRow], levels: dict[str, list[str]], cohorts: dict[str, str] | None = None
) -> list[str]:
    """The lines whose vertebra is not the study's, or whose split is not its centre's: `levels` maps each
    of its study IDs to the levels its screening registered, `cohorts` each to its site's cohort ("" for
    none)."""
    cohorts = cohorts or {}
    problems = []
    for row in rows:
        if row.study_id not in levels:
            problems.append(
                _("line %(line)d: study ID %(study_id)s is not a participant of this study")
                % {"line": row.line, "study_id": row.study_id}
            )
        elif row.level not in levels[row.study_id]:
            problems.append(
                _("line %(line)d: %(study_id)s has no registered level %(level)s (registered: %(levels)s)")
                % {"line": row.line, "study_id": row.study_id, "level": row.level,
                   "levels": ", ".join(levels[row.study_id]) or "-"}
            )  # fmt: skip
        elif row.split not in COHORT_SPLITS.get(cohorts.get(row.study_id, ""), {row.split}):
            problems.append(
                _("line %(line)d: split %(split)s is not one of its centre's (cohort %(cohort)s: %(splits)s)")
                % {"line": row.line, "split": row.split,
                   "cohort": Cohort(cohorts[row.study_id]).label,
                   "splits": ", ".join(sorted(COHORT_SPLITS[cohorts[row.study_id]]))}
            )  # fmt: skip
    return problems
