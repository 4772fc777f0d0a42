"""reports/riskmodel/stats/bootstrap.py: Harrell's optimism on pure noise (the corrected C falls to 0.5) and
on a strong predictor (no optimism), with a logistic procedure fitted by statsmodels and measured by
scikit-learn here, independent of performance.py; the resamples replayed from the same PCG64 stream."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.metrics import brier_score_loss, roc_auc_score

from reports.riskmodel.stats.bootstrap import optimism


def _logistic(frame: pd.DataFrame, rng: np.random.Generator):
    """The procedure: an unpenalised logistic model of y on every other column (statsmodels)."""
    x = sm.add_constant(frame.drop(columns="y").to_numpy(), has_constant="add")
    return sm.Logit(frame["y"].to_numpy(), x).fit(disp=0, method="newton")


def _evaluate(model, frame: pd.DataFrame) -> dict:
    """C (scikit-learn), Brier (scikit-learn), calibration slope and CITL (statsmodels GLM)."""
    y = frame["y"].to_numpy()
    x = sm.add_constant(frame.drop(columns="y").to_numpy(), has_constant="add")
    lp = x @ model.params
    p = 1 / (1 + np.exp(-lp))
    family = sm.families.Binomial()
    slope = sm.GLM(y, sm.add_constant(lp), family=family).fit().params[1]
    citl = sm.GLM(y, np.ones(len(y)), family=family, offset=lp).fit().params[0]
    return {"c": roc_auc_score(y, p), "brier": brier_score_loss(y, p), "slope": slope, "citl": citl}


def _noise(n: int = 200, predictors: int = 10, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, predictors)), columns=[f"x{i}" for i in range(predictors)])
    frame["y"] = (rng.random(n) < 0.4).astype(float)  # unrelated to every x
    return frame


def test_on_pure_noise_the_corrected_c_is_about_one_half():
    # One data set's corrected C scatters around 0.5 (0.43 to 0.58 over data seeds 11-22; Harrell's
    # estimate is known to stay a little optimistic), so four data sets are averaged: with 30 resamples the
    # means of seeds 11-14, 15-18 and 19-22 were 0.517, 0.536 and 0.533.
    corrected = []
    for data_seed in (11, 12, 13, 14):
        calls = []
        result = optimism(
            _noise(seed=data_seed),
            _logistic,
            _evaluate,
            resamples=30,
            seed=data_seed + 4,
            progress=lambda *a, calls=calls: calls.append(a),
        )
        assert result["apparent"]["c"] > 0.58  # ten noise predictors fitted on 200 look predictive
        assert result["optimism"]["c"] > 0.05
        assert result["apparent"]["slope"] == pytest.approx(1, abs=1e-6)  # by construction of the fit
        assert result["shrinkage"] == result["corrected"]["slope"] < 0.6  # the effects are mostly noise
        assert result["optimism"]["brier"] < 0  # the apparent Brier is too good (too low)
        assert calls == [(i, 30) for i in range(1, 31)]
        assert (result["resamples"], result["failed"], result["seed"]) == (30, 0, data_seed + 4)
        corrected.append(result["corrected"]["c"])
    assert np.mean(corrected) == pytest.approx(0.5, abs=0.05)


def test_with_a_strong_predictor_and_many_people_there_is_no_optimism():
    rng = np.random.default_rng(12)
    x = rng.normal(size=2000)
    frame = pd.DataFrame({"x": x, "y": (rng.random(2000) < 1 / (1 + np.exp(1 - 1.5 * x))).astype(float)})
    result = optimism(frame, _logistic, _evaluate, resamples=30, seed=16)
    assert result["apparent"]["c"] > 0.8
    assert abs(result["optimism"]["c"]) < 0.005
    assert result["shrinkage"] == pytest.approx(1, abs=0.02)
    assert abs(result["corrected"]["citl"]) < 0.02


def test_the_same_seed_gives_the_same_numbers():
    frame = _noise(n=80, predictors=2)
    first = optimism(frame, _logistic, _evaluate, resamples=10, seed=3)
    assert optimism(frame, _logistic, _evaluate, resamples=10, seed=3) == first
    assert optimism(frame, _logistic, _evaluate, resamples=10, seed=4)["optimism"] != first["optimism"]


def test_a_resample_that_cannot_be_fitted_is_redrawn_and_counted():
    # 20 rows, 3 events: a resample with fewer than 2 events is refused by the procedure.
    frame = pd.DataFrame(
        {"x": np.arange(20.0), "y": [1.0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1] + [0.0] * 6}
    )

    def procedure(sample, rng):
        if sample["y"].sum() < 2:
            raise ValueError("too few events")
        return sample["y"].mean()

    def evaluate(model, data):
        return {"brier": float(((data["y"] - model) ** 2).mean())}

    result = optimism(frame, procedure, evaluate, resamples=30, seed=9)
    # Replay the stream: the procedure draws nothing, so the rows come one resample after another.
    rng = np.random.Generator(np.random.PCG64(9))
    kept = failed = 0
    expected = 0.0
    while kept < 30:
        sample = frame.iloc[rng.integers(0, 20, size=20)]
        if sample["y"].sum() < 2:
            failed += 1
            continue
        kept += 1
        mean = sample["y"].mean()
        expected += ((sample["y"] - mean) ** 2).mean() - ((frame["y"] - mean) ** 2).mean()
    assert failed > 0
    assert result["failed"] == failed
    assert result["optimism"]["brier"] == pytest.approx(expected / 30, abs=1e-12)
    assert result["shrinkage"] is None  # no slope was measured


def test_it_gives_up_when_no_resample_can_be_fitted():
    frame = _noise(n=10, predictors=1)

    def procedure(sample, rng):
        if sample.equals(frame):
            return None  # the original data fits
        raise ValueError("never on a resample")

    with pytest.raises(ValueError, match="3 resamples could not be fitted; the last: never on a resample"):
        optimism(frame, procedure, lambda model, data: {"c": 0.5}, resamples=3, seed=1)


def test_a_failure_on_the_original_data_is_not_hidden():
    with pytest.raises(ValueError, match="not finite"):
        optimism(_noise(n=10), lambda f, r: None, lambda m, f: {"c": np.nan}, resamples=3, seed=1)
