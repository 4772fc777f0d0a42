"""reports/riskmodel/stats/missing.py on a small frame counted by hand."""

import numpy as np
import pandas as pd
import pytest

from reports.riskmodel.stats.missing import complete_cases, missingness

# Eight participants. age: none missing; pdff_mean: rows 2, 5 and 7 missing (3 of 8, 37.5 %); sex: row 5
# missing (1 of 8, 12.5 %). Complete cases: every row but 2, 5 and 7: 5.
FRAME = pd.DataFrame(
    {
        "age": [70, 81, 66, 75, 59, 88, 72, 64],
        "pdff_mean": [41.0, 55.2, np.nan, 38.9, 47.1, np.nan, 50.3, np.nan],
        "sex": [1.0, 0.0, 1.0, 1.0, 0.0, None, 1.0, 0.0],
        "y": [1, 0, 0, 1, 0, 0, np.nan, 0],
    }
)


def test_missingness_by_hand():
    assert missingness(FRAME, ["age", "pdff_mean", "sex"]) == [
        {"predictor": "age", "missing": 0, "percent": 0.0},
        {"predictor": "pdff_mean", "missing": 3, "percent": 37.5},
        {"predictor": "sex", "missing": 1, "percent": 12.5},
    ]


def test_complete_cases_by_hand():
    assert complete_cases(FRAME, ["age", "pdff_mean", "sex"]) == 5
    assert complete_cases(FRAME, ["age"]) == 8
    assert complete_cases(FRAME, []) == 8


def test_an_empty_frame_has_no_percent():
    assert missingness(FRAME.iloc[:0], ["age"]) == [{"predictor": "age", "missing": 0, "percent": None}]


def test_an_unknown_column_is_refused():
    with pytest.raises(ValueError, match="r2star_mean"):
        missingness(FRAME, ["age", "r2star_mean"])
    with pytest.raises(ValueError, match="r2star_mean"):
        complete_cases(FRAME, ["r2star_mean"])
