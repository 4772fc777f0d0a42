"""The design of a model: how each predictor becomes columns (terms) of the design matrix.

A predictor is continuous or binary; a continuous one enters linearly or as Harrell's restricted cubic spline
(splines.py) with knots placed once, on the development data, and stored: a frozen model computes the same
columns for any later patient. Terms are named as in rms: `age`, then `age'`, `age''`, ... for the spline's
nonlinear columns.
"""

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .splines import rcs_basis, rcs_knots

TYPES = ("continuous", "binary")
TRANSFORMS = ("linear", "rcs")


def _field(entry, name, default=None):
    """A predictor entry's field, whether the entry is a dict (the JSON) or an object (the pydantic spec)."""
    if isinstance(entry, Mapping):
        return entry.get(name, default)
    return getattr(entry, name, default)


def _label(value) -> dict:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True)
    return {"en": str(value)}


@dataclasses.dataclass(frozen=True)
class Predictor:
    """One predictor as the model stores it: knots are values (not a count) and range is [lo, hi] observed."""

    code: str
    type: str
    transform: str
    knots: tuple[float, ...]
    range: tuple[float, float]
    label: dict
    unit: str

    @property
    def terms(self) -> list[str]:
        if self.transform == "rcs":
            return [self.code + "'" * i for i in range(len(self.knots) - 1)]
        return [self.code]

    def columns(self, values) -> np.ndarray:
        """The (n, len(terms)) columns of this predictor for the raw values (NaN stays NaN)."""
        x = np.asarray(values, dtype=float).reshape(-1)
        if self.transform == "rcs":
            return rcs_basis(x, self.knots)
        return x.reshape(-1, 1)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "unit": self.unit,
            "type": self.type,
            "transform": self.transform,
            "knots": list(self.knots),
            "terms": self.terms,
            "range": list(self.range),
        }


@dataclasses.dataclass(frozen=True)
class Design:
    """The predictors, in the spec's order; their terms in that order are the design matrix's columns."""

    predictors: tuple[Predictor, ...]

    @classmethod
    def fit(cls, frame: pd.DataFrame, predictors: Sequence) -> "Design":
        """Fix knots and observed ranges from the development frame (NaN ignored).

        `predictors` are the spec's entries (dicts or objects with code, type, transform, knots: the count,
        label, unit). A binary predictor must be coded 0/1 in the frame.
        """
        fitted = []
        for entry in predictors:
            code = _field(entry, "code")
            kind = _field(entry, "type", "continuous")
            transform = _field(entry, "transform", "linear") or "linear"
            if code not in frame.columns:
                raise ValueError(f"predictor {code}: no such column in the data")
            if kind not in TYPES or transform not in TRANSFORMS:
                raise ValueError(f"predictor {code}: type {kind!r} / transform {transform!r} unknown")
            x = pd.to_numeric(frame[code], errors="raise").to_numpy(dtype=float)
            observed = x[~np.isnan(x)]
            if observed.size == 0:
                raise ValueError(f"predictor {code}: no observed value")
            if kind == "binary" and not np.isin(observed, (0.0, 1.0)).all():
                raise ValueError(f"predictor {code}: a binary predictor takes 0 or 1 only")
            if transform == "rcs" and kind != "continuous":
                raise ValueError(f"predictor {code}: only a continuous predictor takes a spline")
            knots = (
                tuple(float(t) for t in rcs_knots(observed, int(_field(entry, "knots"))))
                if transform == "rcs"
                else ()
            )
            fitted.append(
                Predictor(
                    code=code,
                    type=kind,
                    transform=transform,
                    knots=knots,
                    range=(float(observed.min()), float(observed.max())),
                    label=_label(_field(entry, "label")),
                    unit=_field(entry, "unit") or "",
                )
            )
        return cls(tuple(fitted))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.predictors]

    @property
    def terms(self) -> list[str]:
        return [term for p in self.predictors for term in p.terms]

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The (n, len(terms)) design matrix of the frame's raw predictor columns; NaN where missing."""
        missing = [code for code in self.codes if code not in frame.columns]
        if missing:
            raise ValueError(f"no column for predictor(s) {', '.join(missing)}")
        if not self.predictors:
            return np.empty((len(frame), 0))
        return np.column_stack([p.columns(frame[p.code].to_numpy(dtype=float)) for p in self.predictors])

    def slices(self) -> dict[str, slice]:
        """Each predictor's columns in the design matrix."""
        out, start = {}, 0
        for p in self.predictors:
            out[p.code] = slice(start, start + len(p.terms))
            start += len(p.terms)
        return out

    def to_dict(self) -> dict:
        """The model JSON's "design" (README.md)."""
        return {"predictors": [p.to_dict() for p in self.predictors]}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Design":
        """Back from the model JSON's "design"; the stored terms must be those the knots give."""
        predictors = []
        for entry in data["predictors"]:
            predictor = Predictor(
                code=entry["code"],
                type=entry["type"],
                transform=entry["transform"],
                knots=tuple(float(t) for t in entry.get("knots") or ()),
                range=(float(entry["range"][0]), float(entry["range"][1])),
                label=dict(entry.get("label") or {}),
                unit=entry.get("unit") or "",
            )
            if "terms" in entry and list(entry["terms"]) != predictor.terms:
                raise ValueError(f"predictor {predictor.code}: terms {entry['terms']} do not match its knots")
            predictors.append(predictor)
        return cls(tuple(predictors))
