"""develop(): recovers known coefficients (statsmodels as the reference), is optimistic on pure noise only
by what the bootstrap corrects, shrinks as Harrell says, and gives the same JSON for the same inputs."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg

from reports.riskmodel.data import ModelData
from reports.riskmodel.develop import develop
from reports.riskmodel.spec import spec_load
from reports.riskmodel.stats.predict import risk_interval

HEAD = """\
code: sim
version: "1"
title: {en: Simulated, zh-hans: 模拟}
study: NCT06379243
outcome: {horizon_days: 365}
model: {type: %(type)s, shrinkage: %(shrinkage)s}
missing: {strategy: mice, imputations: 2, iterations: 3}
validation: {bootstrap: 20, seed: 7, thresholds: {from: 0.05, to: 0.4, step: 0.05}}
predictors:
"""


def spec_of(codes, *, binary=(), type="logistic", shrinkage="none", rcs=()):
    lines = []
    for code in codes:
        kind = "binary" if code in binary else "continuous"
        spline = ", transform: rcs, knots: 3" if code in rcs else ""
        lines.append(
            f"  - {{code: {code}, label: {{en: {code}, zh-hans: {code}}}, type: {kind}, "
            f"from: {code}{spline}}}"
        )
    return spec_load(HEAD % {"type": type, "shrinkage": shrinkage} + "\n".join(lines) + "\n")


def data_of(frame: pd.DataFrame) -> ModelData:
    n, events = len(frame), int((frame["status"] == 1).sum())
    flow = {"participants": n, "pending": 0, "no_outcome": 0, "competing": 0, "analysed": n, "events": events}
    return ModelData(frame=frame, flow=flow, cut={"source": "import", "sha256": "0" * 64, "rows": n})


def simulated(n: int, beta: dict, *, seed: int, intercept: float = -1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.integers(0, 2, n).astype(float)})
    frame["x3"] = rng.normal(size=n)
    lp = intercept + sum(b * frame[code] for code, b in beta.items())
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(float)
    frame["time"], frame["status"] = 365.0, frame["y"]
    return frame


def by_term(result) -> dict:
    return {row["term"]: row for row in result["coefficients"]}


def test_known_odds_ratios_are_recovered_within_their_intervals():
    beta = {"x1": 0.8, "x2": 0.7, "x3": -0.5}
    frame = simulated(1500, beta, seed=3)
    spec = spec_of(["x1", "x2", "x3"], binary=["x2"])
    result = develop(spec, data_of(frame), bootstrap=0).result
    rows = by_term(result)
    for code, b in beta.items():
        assert rows[code]["ratio_low"] < math.exp(b) < rows[code]["ratio_high"], code
    # The estimates and SEs are statsmodels' own fit of the same data (nothing missing: one copy).
    reference = sm.GLM(
        frame["y"], sm.add_constant(frame[["x1", "x2", "x3"]]), family=sm.families.Binomial()
    ).fit()
    for code in beta:
        assert rows[code]["estimate"] == pytest.approx(reference.params[code], rel=1e-6)
        assert rows[code]["se"] == pytest.approx(reference.bse[code], rel=1e-4)
    assert result["model"]["intercept"] == pytest.approx(reference.params["const"], rel=1e-6)
    assert result["model"]["shrinkage"] == 1.0


def test_on_pure_noise_the_corrected_c_is_near_one_half_and_the_apparent_above():
    rng = np.random.default_rng(11)
    n = 150
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(1, 7)})
    frame["y"] = (rng.random(n) < 0.3).astype(float)
    frame["time"], frame["status"] = 365.0, frame["y"]
    spec = spec_of([f"x{i}" for i in range(1, 7)], shrinkage="bootstrap")
    result = develop(spec, data_of(frame), bootstrap=30).result
    apparent, internal = result["apparent"], result["internal"]
    assert apparent["c"] > 0.6
    assert abs(internal["corrected"]["c"] - 0.5) < 0.07
    assert internal["optimism"]["c"] > 0.05
    assert internal["resamples"] == 30
    # The shrinkage factor is the corrected slope, far below 1 on noise, and it is applied.
    assert internal["shrinkage"] == internal["corrected"]["slope"] < 0.6
    assert result["model"]["shrinkage"] == internal["shrinkage"]


def test_bootstrap_shrinkage_multiplies_the_coefficients_and_refits_the_intercept():
    frame = simulated(300, {"x1": 0.8, "x2": 0.5, "x3": 0.0}, seed=5)
    codes = ["x1", "x2", "x3"]
    plain = develop(spec_of(codes, binary=["x2"]), data_of(frame), bootstrap=20).result
    shrunk = develop(spec_of(codes, binary=["x2"], shrinkage="bootstrap"), data_of(frame), bootstrap=20)
    factor = shrunk.model["shrinkage"]
    assert 0.7 < factor < 1
    assert shrunk.model["coefficients"] == pytest.approx([factor * b for b in plain["model"]["coefficients"]])
    # The intercept re-estimated with the shrunk linear predictor as offset: a logistic MLE with an
    # intercept predicts as many events as were observed.
    lp = shrunk.model["intercept"] + frame[codes].to_numpy() @ np.array(shrunk.model["coefficients"])
    assert (1 / (1 + np.exp(-lp))).sum() == pytest.approx(frame["y"].sum(), rel=1e-6)


def test_a_shrunk_models_interval_is_as_narrow_at_the_centre_as_the_fitted_ones():
    """A predictor whose zero is far from the data (as age is): at the mean design row the shrunk model's
    linear predictor has the variance of the unshrunk one's there (the re-estimated intercept keeps the
    mean risk's precision), and the risk interval there stays a few points wide, not 0-100 %."""
    frame = simulated(400, {"x1": 0.8, "x2": 0.5, "x3": 0.0}, seed=5)
    frame["x1"] += 70.0  # centred at 70: the intercept is at x1 = 0, far outside the data
    codes = ["x1", "x2", "x3"]
    plain = develop(spec_of(codes, binary=["x2"]), data_of(frame), bootstrap=20).model
    shrunk = develop(spec_of(codes, binary=["x2"], shrinkage="bootstrap"), data_of(frame), bootstrap=20).model
    assert shrunk["shrinkage"] < 1
    centre = np.concatenate([[1.0], frame[codes].to_numpy().mean(axis=0)])

    def lp_variance(model) -> float:
        return float(centre @ np.array(model["covariance"]) @ centre)

    assert lp_variance(shrunk) == pytest.approx(lp_variance(plain), rel=1e-9)
    values = dict(zip(codes, frame[codes].mean().tolist(), strict=True)) | {"x2": 1.0}
    risk, low, high = risk_interval(shrunk, values)
    assert low < risk < high and high - low < 0.2


def test_the_same_inputs_give_the_same_json_byte_for_byte():
    frame = simulated(160, {"x1": 0.8, "x2": 0.5, "x3": 0.3}, seed=9)
    frame.loc[frame.index % 9 == 0, "x1"] = np.nan  # imputed: the draws must come from the seed
    spec = spec_of(["x1", "x2", "x3"], binary=["x2"], rcs=["x3"], shrinkage="bootstrap")
    calls = []
    first = develop(spec, data_of(frame), bootstrap=3, progress=lambda *step: calls.append(step)).result
    second = develop(spec, data_of(frame), bootstrap=3).result
    assert json.dumps(first) == json.dumps(second)
    assert [call for call in calls if call[0] == "bootstrap"] == [("bootstrap", i, 3) for i in (1, 2, 3)]
    assert first["missing"][0] == {"predictor": "x1", "missing": 18, "percent": 100 * 18 / 160}
    assert first["reproducibility"]["imputations"] == 2 and first["reproducibility"]["seed"] == 7
    assert set(first["reproducibility"]["versions"]) >= {"python", "numpy", "pandas", "scipy", "statsmodels"}
    third = develop(spec, data_of(frame), bootstrap=3, seed=8).result
    assert json.dumps(third) != json.dumps(first)


def test_the_result_holds_every_part_of_the_contract():
    frame = simulated(200, {"x1": 0.8, "x2": 0.5, "x3": 0.3}, seed=2)
    result = develop(
        spec_of(["x1", "x2", "x3"], binary=["x2"], rcs=["x3"]), data_of(frame), bootstrap=2
    ).result
    assert {
        "kind", "model", "spec", "study", "cut", "reproducibility", "flow", "sample_size", "missing",
        "coefficients", "effects", "apparent", "internal", "calibration", "decision", "nomogram",
        "points_table", "tripod",
    } <= set(result)  # fmt: skip
    assert result["model"]["terms"] == ["x1", "x2", "x3", "x3'"]
    assert [effect["predictor"] for effect in result["effects"]] == ["x1", "x3"]
    assert result["decision"]["thresholds"] == [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]
    assert result["sample_size"]["r2_cs_source"] == "apparent"
    assert result["nomogram"] and result["points_table"] and result["tripod"]
    assert result["spec"]["sha256"] == result["model"]["spec_sha256"]


def test_a_cox_model_is_developed_on_the_follow_up():
    rng = np.random.default_rng(6)
    n = 300
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.integers(0, 2, n).astype(float)})
    frame["x3"] = rng.normal(size=n)
    hazard = 0.001 * np.exp(0.7 * frame["x1"] + 0.5 * frame["x2"])
    event_time = rng.exponential(1 / hazard)
    censor_time = rng.uniform(100, 600, n)
    frame["time"] = np.minimum(np.minimum(event_time, censor_time), 365.0)
    frame["status"] = ((event_time <= censor_time) & (event_time <= 365)).astype(float)
    frame["y"] = np.where(frame["status"] == 1, 1.0, np.where(frame["time"] >= 365, 0.0, np.nan))
    spec = spec_of(["x1", "x2", "x3"], binary=["x2"], type="cox")
    developed = develop(spec, data_of(frame), bootstrap=5)
    rows = by_term(developed.result)
    assert rows["x1"]["ratio_low"] < math.exp(0.7) < rows["x1"]["ratio_high"]
    reference = PHReg(frame["time"], frame[["x1", "x2", "x3"]], status=frame["status"], ties="breslow").fit()
    assert [rows[c]["estimate"] for c in ("x1", "x2", "x3")] == pytest.approx(
        list(reference.params), rel=1e-6
    )
    assert developed.model["intercept"] is None and 0 < developed.model["baseline_survival"] < 1
    assert developed.result["apparent"]["c"] > 0.6
