"""Missing values per candidate predictor, and the complete cases. Pure.

A value is missing when it is NaN or None (pandas ``isna``). percent = 100 · missing / rows, None when the
frame has no rows. A complete case has every listed column present (what a complete-case analysis keeps).
"""

from collections.abc import Sequence

import pandas as pd


def _columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    columns = list(columns)
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValueError(f"The frame has no column {', '.join(absent)}.")
    return columns


def missingness(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    """[{"predictor", "missing", "percent"}] in the order of ``columns``: the result's "missing"."""
    rows = len(frame)
    return [
        {
            "predictor": column,
            "missing": (missing := int(frame[column].isna().sum())),
            "percent": 100 * missing / rows if rows else None,
        }
        for column in _columns(frame, columns)
    ]


def complete_cases(frame: pd.DataFrame, columns: Sequence[str]) -> int:
    """How many rows have every one of ``columns`` present."""
    return int(frame[_columns(frame, columns)].notna().all(axis=1).sum())
