"""reports/riskmodel/stats/design.py: knots fixed on the development data, terms named as in rms, the matrix
against hand-computed columns and patsy, and the model JSON's "design" round trip."""

import json

import numpy as np
import pandas as pd
import patsy
import pytest

from reports.riskmodel.stats.design import Design

PREDICTORS = [
    {
        "code": "age",
        "type": "continuous",
        "transform": "rcs",
        "knots": 4,
        "label": {"en": "Age"},
        "unit": "years",
    },
    {"code": "sex", "type": "binary", "transform": "linear", "label": {"en": "Male"}, "unit": ""},
    {
        "code": "t_score_min",
        "type": "continuous",
        "transform": "linear",
        "label": {"en": "T-score"},
        "unit": "SD",
    },
]


@pytest.fixture
def frame():
    rng = np.random.default_rng(1527)
    n = 300
    return pd.DataFrame(
        {
            "age": np.round(rng.uniform(50, 95, n), 1),
            "sex": rng.integers(0, 2, n).astype(float),
            "t_score_min": np.round(rng.normal(-2.8, 0.9, n), 1),
            "unused": rng.normal(size=n),
        }
    )


def test_terms_knots_and_ranges(frame):
    design = Design.fit(frame, PREDICTORS)
    assert design.terms == ["age", "age'", "age''", "sex", "t_score_min"]
    age = design.predictors[0]
    np.testing.assert_allclose(age.knots, np.quantile(frame["age"], [0.05, 0.35, 0.65, 0.95]))
    assert age.range == (frame["age"].min(), frame["age"].max())
    assert design.predictors[1].range == (0.0, 1.0)
    assert design.slices()["sex"] == slice(3, 4)


def test_the_matrix_by_hand_and_against_patsy(frame):
    """Column by column: age, Harrell's two nonlinear terms, sex, T-score; the spline spans patsy's cr()."""
    design = Design.fit(frame, PREDICTORS)
    matrix = design.matrix(frame)
    t = np.asarray(design.predictors[0].knots)
    x = frame["age"].to_numpy()

    def plus3(u):
        return np.maximum(u, 0) ** 3

    for j, column in ((0, 1), (1, 2)):
        hand = (
            plus3(x - t[j])
            - plus3(x - t[2]) * (t[3] - t[j]) / (t[3] - t[2])
            + plus3(x - t[3]) * (t[2] - t[j]) / (t[3] - t[2])
        ) / (t[3] - t[0]) ** 2
        np.testing.assert_allclose(matrix[:, column], hand)
    np.testing.assert_array_equal(matrix[:, 0], x)
    np.testing.assert_array_equal(matrix[:, 3], frame["sex"])
    np.testing.assert_array_equal(matrix[:, 4], frame["t_score_min"])
    cr = np.asarray(
        patsy.dmatrix(
            "cr(age, knots=inner, lower_bound=lo, upper_bound=hi) - 1",
            {"age": x, "inner": t[1:3], "lo": t[0], "hi": t[3]},
        )
    )
    ours = np.column_stack([np.ones(len(x)), matrix[:, :3]])
    assert np.linalg.matrix_rank(np.column_stack([ours, cr]), tol=1e-8) == 4


def test_the_json_round_trip_gives_the_same_matrix(frame):
    design = Design.fit(frame, PREDICTORS)
    stored = json.loads(json.dumps(design.to_dict()))
    assert stored["predictors"][0]["terms"] == ["age", "age'", "age''"]
    assert stored["predictors"][0]["label"] == {"en": "Age"} and stored["predictors"][0]["unit"] == "years"
    assert set(stored["predictors"][0]) == {
        "code",
        "label",
        "unit",
        "type",
        "transform",
        "knots",
        "terms",
        "range",
    }
    later = pd.DataFrame(
        {"age": [45.0, 70.0, 99.0], "sex": [1.0, 0.0, 1.0], "t_score_min": [-3.0, -1.0, np.nan]}
    )
    np.testing.assert_array_equal(Design.from_dict(stored).matrix(later), design.matrix(later))
    assert np.isnan(design.matrix(later)[2, 4])


def test_knots_stay_those_of_the_development_data(frame):
    design = Design.fit(frame, PREDICTORS)
    other = frame.assign(age=frame["age"] + 20)
    assert Design.fit(other, PREDICTORS).predictors[0].knots != design.predictors[0].knots
    np.testing.assert_array_equal(design.matrix(other)[:, 0], other["age"])


def test_refusals(frame):
    with pytest.raises(ValueError, match="sex: a binary predictor takes 0 or 1"):
        Design.fit(frame.assign(sex=frame["sex"] * 2), PREDICTORS)
    with pytest.raises(ValueError, match="pdff_mean: no such column"):
        Design.fit(frame, [*PREDICTORS, {"code": "pdff_mean", "type": "continuous"}])
    with pytest.raises(ValueError, match="pdff_mean: no observed value"):
        Design.fit(frame.assign(pdff_mean=np.nan), [{"code": "pdff_mean", "type": "continuous"}])
    with pytest.raises(ValueError, match="t_score_min"):
        Design.fit(frame, PREDICTORS).matrix(frame.drop(columns="t_score_min"))
    stored = Design.fit(frame, PREDICTORS).to_dict()
    stored["predictors"][0]["terms"] = ["age", "age'"]
    with pytest.raises(ValueError, match="age: terms"):
        Design.from_dict(stored)
