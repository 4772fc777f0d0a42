"""The data a model is developed or validated on (README.md, ModelData): the predictors coded as the spec says
and the outcome by the endpoint's rule, from a study's analysis dataset at a cut or from an imported CSV in
the analysis export's format. Never a study ID: only the columns the spec names and the endpoint's are read.

The outcome at the horizon H (days from the index date), from the endpoint's columns:

| endpoint                                       | y   | time    | status | flow        |
|------------------------------------------------|-----|---------|--------|-------------|
| a case still being adjudicated                 | -   | -       | -      | pending     |
| no index date (not treated)                    | -   | -       | -      | no_outcome  |
| event on day d <= H                            | 1   | d       | 1      | events      |
| event after H                                  | 0   | H       | 0      |             |
| died on day d <= H (the competing event)       | 0   | d       | 2      | competing   |
| followed to H or beyond, event-free            | 0   | H       | 0      |             |
| withdrawn, lost or in follow-up before H       | NaN | d       | 0      | no_outcome* |

*A logistic model leaves these out (no_outcome); a Cox model keeps them, censored on day d. A death is a
competing event: the logistic 1-year risk counts it as no event, the Cox model censors it (cause-specific).

The cut's sha256 is of the canonical bytes of the rows read (the spec's columns, then the endpoint's, each
value canonical by its use: numbers as floats, flags as 0/1, codes as text, days as integers; one JSON array
a line after a header line of the names), so that the CSV export of a cut imports to the same hash.
"""

import csv
import datetime
import hashlib
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from trial.errors import InvalidInput

from .spec import ModelSpec, spec_check_columns

ENDPOINT = (
    ("endpoint_event", "flag"),
    ("endpoint_days", "days"),
    ("endpoint_censor", "code"),
    ("endpoint_pending", "flag"),
)
OUTCOME_COLUMNS = ("y", "time", "status")
SOURCES = ("study", "later_cut", "import")
MAX_PROBLEMS = 20  # a file's problems listed before "and N more": enough to see the pattern


@dataclass(frozen=True)
class ModelData:
    """One row per participant analysed: the predictors' codes (floats, NaN when missing), y, time, status."""

    frame: pd.DataFrame
    flow: dict
    cut: dict


def columns_and_uses(spec: ModelSpec) -> list[tuple[str, str]]:
    """(column, use) of every column read, the spec's in order then the endpoint's: use is number, flag or
    code (how its values are read and hashed)."""
    uses: dict[str, str] = {}
    for predictor in spec.predictors:
        for column in predictor.columns:
            if predictor.type == "continuous":
                use = "number"
            elif predictor.positive is not None:
                use = "code"
            else:
                use = "flag"
            uses.setdefault(column, use)
    return [*uses.items(), *ENDPOINT]


def _canonical(value, use: str):
    """A value from the database as it is hashed and coded: None, a float, 0/1, an int of days or a text."""
    if value is None:
        return None
    if use == "number":
        return float(value)
    if use == "flag":
        return int(bool(value))
    if use == "days":
        return int(value)
    return str(value)


def model_data(
    study,
    cut_at: datetime.datetime,
    spec: ModelSpec,
    source: str = "study",
    *,
    enrolled_after: datetime.date | None = None,
) -> ModelData:
    """The spec's data from `study`'s analysis dataset at `cut_at`, read in one snapshot, streamed (only the
    needed columns of each row are kept). A study lacking a column the spec reads: InvalidInput naming it.

    `enrolled_after` (a temporal validation): only the participants enrolled after that day, i.e. none of
    those a model developed at a cut on that day could have seen (one enrolled on the cut's own day is left
    out, whether before or after the cut's time)."""
    from reports.exports.analysis import AnalysisDataset
    from reports.replica import read_snapshot

    if source not in SOURCES[:2]:
        raise ValueError(f"source must be one of {SOURCES[:2]}")
    spec_check_columns(spec, study)
    dataset = AnalysisDataset(study)
    endpoint = dataset.definition.get("endpoint") or {}
    if not dataset.has_endpoint:
        raise InvalidInput(
            _("This study declares no endpoint: there is no outcome to model."),
            field_errors={"study": [_("no endpoint in the protocol")]},
        )
    horizon = endpoint.get("horizon_days")
    if horizon is not None and spec.outcome.horizon_days > horizon:
        message = _("The model's horizon (%(model)s days) is after the endpoint's (%(endpoint)s days).") % {
            "model": spec.outcome.horizon_days,
            "endpoint": horizon,
        }
        raise InvalidInput(message, field_errors={"spec": [message]})
    wanted = columns_and_uses(spec)
    names = [column.name for column in dataset.columns]
    at = [names.index(name) for name, _use in wanted]
    uses = [use for _name, use in wanted]
    enrolled = names.index("enrollment_date")
    cut = {"source": source, "study": study.code, "at": cut_at.isoformat()}
    if enrolled_after is not None:
        cut["enrolled_after"] = enrolled_after.isoformat()
    with read_snapshot():
        records = (
            [_canonical(row[i], use) for i, use in zip(at, uses, strict=True)]
            for row in dataset.rows(cut_at=cut_at)
            if enrolled_after is None or _day(row[enrolled]) > enrolled_after
        )
        return _build(records, spec, cut=cut)


def _day(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def model_data_import(content: bytes, spec: ModelSpec) -> ModelData:
    """The spec's data from a CSV in the analysis export's raw format (header of column names, booleans 1/0,
    choice codes, numbers as written, missing as empty; a UTF-8 byte-order mark allowed). A missing column or
    a bad value: InvalidInput with the problems under "file"."""
    wanted = columns_and_uses(spec)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error([_("the file is not UTF-8 text")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise _file_error([_("the file is empty")])
    missing = [name for name, _use in wanted if name not in header]
    if missing:
        raise _file_error([_("missing column %(name)s") % {"name": name} for name in missing])
    at = [header.index(name) for name, _use in wanted]
    problems: list[str] = []
    records = list(_csv_records(reader, at, wanted, problems))
    if problems:
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS]
        if more > 0:
            shown.append(_("and %(count)s more") % {"count": more})
        raise _file_error(shown)
    return _build(iter(records), spec, cut={"source": "import", "study": None, "at": None})


def _file_error(lines: list[str]) -> InvalidInput:
    return InvalidInput(
        _("The file cannot be used: %(first)s") % {"first": lines[0]}, field_errors={"file": lines}
    )


def _csv_records(reader, at: list[int], wanted, problems: list[str]) -> Iterator[list]:
    for number, row in enumerate(reader, start=2):  # line 1 is the header
        if not row:
            continue
        record = []
        for i, (name, use) in zip(at, wanted, strict=True):
            text = row[i].strip() if i < len(row) else ""
            try:
                record.append(_parse(text, use))
            except ValueError:
                problems.append(
                    _("line %(line)s, %(column)s: %(value)r is not %(what)s")
                    % {"line": number, "column": name, "value": text, "what": _USE_NAMES[use]()}
                )
                record.append(None)
        yield record


_USE_NAMES = {
    "number": lambda: _("a number"),
    "flag": lambda: _("1 or 0"),
    "days": lambda: _("a whole number of days"),
    "code": lambda: _("a code"),
}


def _parse(text: str, use: str):
    """A CSV cell as _canonical gives the database's value: empty is missing."""
    if text == "":
        return None
    if use == "number":
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(text)
        return value
    if use == "flag":
        if text not in ("0", "1"):
            raise ValueError(text)
        return int(text)
    if use == "days":
        return int(text)
    return text


def _build(records: Iterable[list], spec: ModelSpec, *, cut: dict) -> ModelData:
    """Hash the records, code the predictors and the outcome, count the flow."""
    wanted = columns_and_uses(spec)
    names = [name for name, _use in wanted]
    digest = hashlib.sha256((json.dumps(names, separators=(",", ":")) + "\n").encode())
    horizon = spec.outcome.horizon_days
    keep_censored = spec.model.type == "cox"
    flow = dict.fromkeys(("participants", "pending", "no_outcome", "competing", "analysed", "events"), 0)
    kept: list[list] = []
    outcomes: list[tuple[float, float, float]] = []
    for record in records:
        digest.update((json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode())
        flow["participants"] += 1
        event, days, censor, pending = record[-4:]
        if pending:
            flow["pending"] += 1
            continue
        y, time, status = outcome(event=event, days=days, censor=censor, horizon=horizon)
        if math.isnan(time) or (math.isnan(y) and not keep_censored):
            flow["no_outcome"] += 1
            continue
        flow["analysed"] += 1
        flow["events"] += status == 1
        flow["competing"] += status == 2
        kept.append(record)
        outcomes.append((y, time, status))
    columns = {name: [record[i] for record in kept] for i, name in enumerate(names)}
    frame = pd.DataFrame(
        {predictor.code: _code(predictor, columns) for predictor in spec.predictors}, dtype=float
    )
    values = np.array(outcomes, dtype=float).reshape(-1, 3)
    for i, name in enumerate(OUTCOME_COLUMNS):
        frame[name] = values[:, i]
    return ModelData(
        frame=frame,
        flow={key: int(value) for key, value in flow.items()},
        cut={**cut, "sha256": digest.hexdigest(), "rows": flow["participants"]},
    )


def outcome(*, event, days, censor, horizon: int) -> tuple[float, float, float]:
    """(y, time, status) of one participant by the table of the module's docstring; NaN time: no index
    date. Not called for a case pending adjudication."""
    nan = math.nan
    if days is None:
        return nan, nan, nan
    if event:
        return (1.0, float(days), 1.0) if days <= horizon else (0.0, float(horizon), 0.0)
    if censor == "died" and days <= horizon:
        return 0.0, float(days), 2.0
    if days >= horizon:
        return 0.0, float(horizon), 0.0
    return nan, float(days), 0.0


def _code(predictor, columns: dict[str, list]) -> list[float]:
    """A predictor's values: a number as it is; a flag 0/1; positive: 1 for a listed code, 0 for another;
    any_of: 1 if any column is 1, 0 if all are 0, else missing."""
    nan = math.nan
    if predictor.any_of is not None:
        out = []
        for values in zip(*(columns[name] for name in predictor.any_of), strict=True):
            if any(value == 1 for value in values):
                out.append(1.0)
            elif all(value == 0 for value in values):
                out.append(0.0)
            else:
                out.append(nan)
        return out
    values = columns[predictor.source]
    if predictor.positive is not None:
        positive = set(predictor.positive)
        return [nan if value is None else float(value in positive) for value in values]
    return [nan if value is None else float(value) for value in values]
