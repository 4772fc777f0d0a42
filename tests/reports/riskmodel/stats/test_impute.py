"""reports/riskmodel/stats/impute.py: Rubin's rules against a hand computation and statsmodels MICE's pooled
results; imputations keep observed values and binary columns binary, use the outcome, repeat for a seed."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.imputation.mice import MICE, MICEData

from reports.riskmodel.stats.impute import _Chain, impute, nelson_aalen, rubin


def test_rubin_by_hand():
    """Three imputations of one coefficient: estimates 1.0, 1.2, 1.4, variances 0.04, 0.05, 0.06.
    Q = 1.2; W = 0.05; B = (0.04 + 0 + 0.04) / 2 = 0.04; T = 0.05 + (4/3)(0.04) = 0.103333...;
    fmi = (4/3)(0.04) / T = 0.0533333 / 0.1033333 = 0.516129..."""
    pooled = rubin([[1.0], [1.2], [1.4]], [[[0.04]], [[0.05]], [[0.06]]])
    assert pooled.estimate == pytest.approx([1.2])
    assert pooled.covariance[0, 0] == pytest.approx(0.05 + 4 / 3 * 0.04)
    assert pooled.fmi[0] == pytest.approx((4 / 3 * 0.04) / (0.05 + 4 / 3 * 0.04))
    two = rubin([[1.0, 0.0], [3.0, 2.0]], [np.eye(2), 3 * np.eye(2)])
    # B = [[2, 2], [2, 2]] (deviations (-1, -1), (1, 1), over m - 1 = 1); W = 2 I; T = 2 I + 1.5 B
    np.testing.assert_allclose(two.covariance, [[5.0, 3.0], [3.0, 5.0]])
    assert rubin([[1.0, 2.0]], [np.eye(2)]).fmi.tolist() == [0.0, 0.0]
    assert rubin([[1.0], [3.0]]).covariance is None


def test_rubin_matches_statsmodels_mice():
    rng = np.random.default_rng(15)
    n = 200
    x1 = rng.normal(size=n)
    x2 = 0.5 * x1 + rng.normal(size=n)
    y = 1 + x1 - 0.5 * x2 + rng.normal(size=n)
    data = pd.DataFrame({"y": y, "x1": x1, "x2": x2})
    data.loc[rng.random(n) < 0.25, "x1"] = np.nan
    data.loc[rng.random(n) < 0.2, "x2"] = np.nan
    mice = MICE("y ~ x1 + x2", sm.OLS, MICEData(data, rng=np.random.default_rng(1)))
    reference = mice.fit(n_burnin=3, n_imputations=5)
    ours = rubin(
        [r.params.to_numpy() for r in mice.results_list],
        [r.cov_params().to_numpy() for r in mice.results_list],
    )
    np.testing.assert_allclose(ours.estimate, reference.params, rtol=1e-12)
    np.testing.assert_allclose(ours.covariance, reference.cov_params(), rtol=1e-10)
    np.testing.assert_allclose(ours.fmi, reference.frac_miss_info, rtol=1e-10)


@pytest.fixture
def incomplete():
    rng = np.random.default_rng(27)
    n = 300
    y = (rng.random(n) < 0.3).astype(float)
    frame = pd.DataFrame(
        {
            "age": rng.normal(72, 8, n),
            "sex": rng.integers(0, 2, n).astype(float),
            "pdff_mean": 40 + 15 * y + rng.normal(0, 5, n),  # strongly tied to the outcome
            "fractures_n": rng.integers(1, 4, n).astype(float),
            "y": y,
            "note": np.arange(n),  # a column outside the imputation, carried as it is
        },
        index=np.arange(1000, 1000 + n),
    )
    for column, share in (("sex", 0.15), ("pdff_mean", 0.3), ("fractures_n", 0.1)):
        frame.loc[rng.random(n) < share, column] = np.nan
    return frame


COLUMNS = ["age", "sex", "pdff_mean", "fractures_n"]


def test_imputations_fill_only_the_gaps_and_keep_binary_columns_binary(incomplete):
    completed = impute(incomplete, COLUMNS, outcome=["y"], m=3, iterations=5, seed=7)
    assert len(completed) == 3
    observed = incomplete.notna()
    for frame in completed:
        assert not frame[COLUMNS].isna().any().any()
        assert frame.index.equals(incomplete.index) and list(frame.columns) == list(incomplete.columns)
        pd.testing.assert_frame_equal(
            frame[observed].dropna(how="all"), incomplete[observed].dropna(how="all")
        )
        assert set(frame["sex"].unique()) <= {0.0, 1.0}
        assert set(frame["fractures_n"].unique()) <= {1.0, 2.0, 3.0}
        pd.testing.assert_series_equal(frame["y"], incomplete["y"])
        pd.testing.assert_series_equal(frame["note"], incomplete["note"])
    gaps = incomplete["pdff_mean"].isna()
    assert not np.allclose(completed[0].loc[gaps, "pdff_mean"], completed[1].loc[gaps, "pdff_mean"])


def test_the_outcome_informs_the_imputations(incomplete):
    """PDFF is 15 higher with the event: imputed values keep most of that gap only if y is in the model."""
    frame = impute(incomplete, COLUMNS, outcome=["y"], m=1, iterations=5, seed=7)[0]
    gaps = incomplete["pdff_mean"].isna()
    imputed = frame.loc[gaps]
    gap = (
        imputed.loc[imputed["y"] == 1, "pdff_mean"].mean()
        - imputed.loc[imputed["y"] == 0, "pdff_mean"].mean()
    )
    assert gap > 10


def test_a_seed_repeats_and_complete_data_come_back_unchanged(incomplete):
    first = impute(incomplete, COLUMNS, outcome=["y"], m=2, iterations=3, seed=3)
    again = impute(incomplete, COLUMNS, outcome=["y"], m=2, iterations=3, seed=3)
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b)
    complete = incomplete.dropna()
    for frame in impute(complete, COLUMNS, outcome=["y"], m=2, iterations=3, seed=3):
        pd.testing.assert_frame_equal(frame, complete)


def test_a_missing_outcome_helps_the_chain_and_comes_back_missing(incomplete):
    """Rows without an outcome (kept for a Cox model, say) get their predictors imputed; y stays missing."""
    frame = incomplete.copy()
    frame.loc[frame.index[::10], "y"] = np.nan
    for completed in impute(frame, COLUMNS, outcome=["y"], m=2, iterations=3, seed=5):
        assert not completed[COLUMNS].isna().any().any()
        pd.testing.assert_series_equal(completed["y"], frame["y"])


def test_refusals(incomplete):
    empty = incomplete.copy()
    empty.loc[empty.index[0], [*COLUMNS, "y"]] = np.nan
    with pytest.raises(ValueError, match="neither predictors nor outcome"):
        impute(empty, COLUMNS, outcome=["y"], m=2, iterations=2, seed=1)
    with pytest.raises(ValueError, match="no observed value of r2star_mean"):
        impute(
            incomplete.assign(r2star_mean=np.nan),
            [*COLUMNS, "r2star_mean"],
            outcome=["y"],
            m=2,
            iterations=2,
            seed=1,
        )
    with pytest.raises(ValueError, match="no column t_score_min"):
        impute(incomplete, ["t_score_min"], outcome=["y"], m=2, iterations=2, seed=1)


def test_nelson_aalen_by_hand():
    """Times 1, 2, 2, 3, 5 with events at 1, 2 (one of the two at 2), 5; the 3 is censored:
    H(1) = 1/5; H(2) = 1/5 + 1/4; H(3) = H(2); H(5) = H(2) + 1/1. A competing death at 0.5 (status 2) is
    censored: it has left the risk set before time 1 and its own H is 0."""
    hazard = nelson_aalen([1, 2, 2, 3, 5, 0.5], [1, 1, 0, 0, 1, 2])
    np.testing.assert_allclose(
        hazard, [1 / 5, 1 / 5 + 1 / 4, 1 / 5 + 1 / 4, 1 / 5 + 1 / 4, 1 / 5 + 1 / 4 + 1, 0]
    )


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as impute() hands it to the chain: floats under plain names."""
    return pd.DataFrame(frame.to_numpy(dtype=float), columns=[f"v{i}" for i in range(frame.shape[1])])


def test_the_chain_is_statsmodels_micedata_without_patsy(incomplete):
    """The numpy design matrices give statsmodels MICEData's own chain, to the bit, for a seed."""
    data = _plain(incomplete)
    reference = MICEData(data.copy(), rng=np.random.default_rng(4))
    chain = _Chain(data.copy(), rng=np.random.default_rng(4))
    for _ in range(3):
        reference.update_all(2)
        chain.update_all(2)
        pd.testing.assert_frame_equal(chain.data, reference.data, check_exact=True)


def test_the_chain_refuses_a_model_it_does_not_build(incomplete):
    data = _plain(incomplete)
    chain = _Chain(data, rng=np.random.default_rng(4))
    column = next(name for name in data.columns if data[name].isna().any())
    chain.set_imputer(column, formula="v0")
    with pytest.raises(NotImplementedError):
        chain.update_all(1)
