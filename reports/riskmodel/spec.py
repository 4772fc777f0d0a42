"""The model specification (SPEC.md): a YAML file read into a strict, frozen ModelSpec, hashed by its bytes.

Every problem of a file is listed at once, one line each, `<where>: <what>` (trial/schema.py's wording), and
raised as a SpecError (an InvalidInput: a 400 with the lines under "spec"). With a study, every analysis-
dataset column the predictors name is checked against the study's AnalysisDataset: a spec naming a column
the study lacks (PDFF in NCT06172179, which has no qMRI form) does not load for that study.
"""

import hashlib
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from trial.errors import InvalidInput
from trial.schema import Number, StrictModel, Text, code, distinct, problems, says, unique
from trial.yamltext import yaml_load

PREDICTOR_CODE = r"^[a-z][a-z0-9_]{0,31}$"
SPEC_CODE = r"^[A-Za-z0-9_.-]{1,64}$"
COLUMN = r"^[A-Za-z0-9_]{1,120}$"
# Harrell's default knot placements exist for 3 to 7 knots (stats/splines.py); more overfit any study here.
KNOTS = (3, 7)
# Columns the outcome is read from: never a predictor.
OUTCOME_COLUMNS = ("endpoint_event", "endpoint_days", "endpoint_censor", "endpoint_pending")
IDENTIFYING = ("study_id",)


class SpecError(InvalidInput):
    code = "invalid_spec"


Column = code(COLUMN, "age", rule="is not an analysis-dataset column name")
Positive = Annotated[int, Field(gt=0), says("must be a positive whole number")]


class Outcome(StrictModel):
    horizon_days: Positive
    # Death before the horizon is the competing event (logistic: no event; Cox: censored, cause-specific).
    competing: Literal["died"] = "died"


class Model(StrictModel):
    type: Literal["logistic", "cox"]
    penalty: Literal["none", "ridge", "lasso"] = "none"
    shrinkage: Literal["bootstrap", "none"] = "bootstrap"

    @model_validator(mode="after")
    def _shrink_once(self):
        if self.penalty != "none" and self.shrinkage == "bootstrap":
            raise ValueError("a penalised model is shrunk by its penalty: set shrinkage: none")
        return self


class Missing(StrictModel):
    strategy: Literal["mice", "complete_case"]
    imputations: Positive = 5
    iterations: Positive = 10


class Thresholds(StrictModel):
    start: Number = Field(alias="from")
    to: Number
    step: Number

    @model_validator(mode="after")
    def _range(self):
        if not 0 < self.start < self.to < 1:
            raise ValueError("thresholds need 0 < from < to < 1")
        if not 0 < self.step <= self.to - self.start:
            raise ValueError("step must be more than 0 and at most to - from")
        return self

    def values(self) -> list[float]:
        """from, from + step, ... up to `to` (inclusive, to 10 decimals so that 0.05 + 7 x 0.05 is 0.4)."""
        count = int(round((self.to - self.start) / self.step, 10)) + 1
        return [round(self.start + i * self.step, 10) for i in range(count)]


class Validation(StrictModel):
    bootstrap: Annotated[int, Field(ge=0), says("must be a whole number, 0 or more")] = 200
    seed: Annotated[int, Field(ge=0), says("must be a whole number, 0 or more")] = 20240501
    thresholds: Thresholds


class Predictor(StrictModel):
    code: code(PREDICTOR_CODE, "age", rule="must be lower case letters, digits and _, starting with a letter")
    label: Text
    unit: str = ""
    type: Literal["continuous", "binary"]
    source: Column = Field(None, alias="from")
    any_of: Annotated[list[Column], Field(min_length=2), distinct] = None
    positive: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1), distinct] = None
    transform: Literal["linear", "rcs"] = "linear"
    knots: Annotated[int, Field(ge=KNOTS[0], le=KNOTS[1]), says("must be a whole number from 3 to 7")] = None

    @model_validator(mode="after")
    def _coding(self):
        problems = []
        if (self.source is None) == (self.any_of is None):
            problems.append("give exactly one of from and any_of")
        if self.any_of is not None and self.type != "binary":
            problems.append("any_of makes a binary predictor: type must be binary")
        if self.positive is not None and (self.type != "binary" or self.source is None):
            problems.append("positive is for a binary predictor read from one choice column (from)")
        if self.transform == "rcs" and self.type != "continuous":
            problems.append("a spline (rcs) is for a continuous predictor")
        if self.transform == "rcs" and self.knots is None:
            problems.append("a spline (rcs) needs knots (3 to 7)")
        if self.transform != "rcs" and self.knots is not None:
            problems.append("knots are for a spline: set transform: rcs")
        for column in self.columns:
            if column in OUTCOME_COLUMNS or column in IDENTIFYING:
                problems.append(f"{column} cannot be a predictor")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def columns(self) -> list[str]:
        """The analysis-dataset columns this predictor is read from."""
        return [self.source] if self.source is not None else list(self.any_of or [])

    @property
    def parameters(self) -> int:
        """Its degrees of freedom in the model: k - 1 for a spline of k knots, else 1."""
        return self.knots - 1 if self.transform == "rcs" else 1


class SpecBody(StrictModel):
    code: code(SPEC_CODE, "NCT06379243-refracture-1y")
    version: code(r"^\S{1,32}$", "1.0")
    title: Text
    study: code(r"^[A-Za-z0-9_-]{1,32}$", "NCT06379243")
    outcome: Outcome
    model: Model
    missing: Missing
    validation: Validation
    predictors: Annotated[list[Predictor], Field(min_length=1), unique()]


class ModelSpec(SpecBody):
    """A loaded spec: the file's data, its exact text and the SHA-256 of its bytes."""

    text: str
    sha256: str

    @property
    def columns(self) -> list[str]:
        """Every analysis-dataset column the predictors read, in order, once each."""
        return list(dict.fromkeys(column for p in self.predictors for column in p.columns))

    @property
    def parameters(self) -> int:
        return sum(p.parameters for p in self.predictors)

    def as_dict(self) -> dict:
        """The spec as data (keys as written in the file) with its sha256 and text: the result's `spec`."""
        data = self.model_dump(by_alias=True, exclude_none=True, exclude={"text", "sha256"})
        return {**data, "sha256": self.sha256, "text": self.text}


def spec_load(source: str | Path | bytes, *, study=None) -> ModelSpec:
    """Read a spec from a path, or from its text (str or bytes); with `study`, check its columns exist.

    Raises SpecError listing every problem. A one-line str ending in .yaml or .yml is a path; any other str
    is the text itself (a spec's text always spans lines)."""
    if isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml")):
        source = Path(source)
    if isinstance(source, Path):
        raw = source.read_bytes()
    else:
        raw = source.encode() if isinstance(source, str) else source
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("a spec file is UTF-8 text", field_errors={"spec": ["not UTF-8 text"]}) from None
    try:
        data = yaml_load(text)
    except yaml.YAMLError as exc:
        raise SpecError("not valid YAML", field_errors={"spec": [f"not valid YAML: {exc}"]}) from None
    if not isinstance(data, dict):
        raise SpecError("a spec file is a mapping", field_errors={"spec": ["a spec is a mapping of keys"]})
    try:
        SpecBody.model_validate(data)
    except ValidationError as exc:
        lines = problems(exc, data)
        raise SpecError("; ".join(lines), field_errors={"spec": lines}) from None
    spec = ModelSpec.model_validate({**data, "text": text, "sha256": hashlib.sha256(raw).hexdigest()})
    if study is not None:
        spec_check_columns(spec, study)
    return spec


def spec_check_columns(spec: ModelSpec, study) -> None:
    """Every column the spec reads exists in the study's analysis dataset, with a type that fits its use;
    raise SpecError naming each that does not."""
    from reports.exports.analysis import AnalysisDataset
    from reports.exports.table import ColumnType as T

    found = {column.name: column for column in AnalysisDataset(study).columns}
    lines = []
    for i, predictor in enumerate(spec.predictors):
        place = f"predictors[{i}] ({predictor.code})"
        for name in predictor.columns:
            column = found.get(name)
            if column is None:
                lines.append(f"{place}: {study.code} has no column {name}")
            elif predictor.positive is not None:
                codes = {code for code, _label in column.choices}
                if column.type != T.CHOICE:
                    lines.append(f"{place}: positive needs a choice column; {name} is {column.type}")
                elif unknown := [value for value in predictor.positive if value not in codes]:
                    lines.append(f"{place}: {name} has no choice {', '.join(unknown)}")
            elif predictor.type == "binary" and column.type != T.BOOLEAN:
                lines.append(f"{place}: {name} is {column.type}: a binary predictor needs 0/1 or positive")
            elif predictor.type == "continuous" and column.type not in (T.INTEGER, T.DECIMAL):
                lines.append(f"{place}: {name} is {column.type}, not a number")
    if lines:
        raise SpecError("; ".join(lines), field_errors={"spec": lines})
