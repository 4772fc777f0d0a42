"""reports/riskmodel/stats/samplesize.py against the published worked examples and pmsampsize's own tests.

Sources (pmsampsize is the authors' R package; its code and tests read in the cran/pmsampsize mirror,
version 1.1.3, 2023-12-05):
- Binary: Riley et al., Stat Med 2019;38:1276 (part II), the Chagas disease model: "an EPP of at least 4.8";
  pmsampsize's example and test 4.1, pmsampsize(type = "b", csrsquared = 0.288, parameters = 24,
  prevalence = 0.174) prints Samp_size 623, 662, 221, final 662 and EPP 4.52, 4.8, 1.6, 4.8.
- Survival: Riley et al., BMJ 2020;368:m441, the recurrent venous thromboembolism model ("an EPP of at least
  23" in part II); pmsampsize(type = "s", csrsquared = 0.051, parameters = 30, rate = 0.065, timepoint = 2,
  meanfup = 2.07): N 5143, EPP 23.07, 5143 · 0.065 · 2.07 = 692 events (691.99 rounded up).
- pmsampsize's tests 4.2-4.4 (binary) and 3.1-3.9 (survival), numbers copied into the tables below.
"""

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import norm

from reports.riskmodel.stats.samplesize import r2_cs_from_c, riley_binary, riley_survival


def test_binary_worked_example():
    result = riley_binary(parameters=24, prevalence=0.174, r2_cs=0.288, available=400, available_events=70)
    # By hand: max R2 = 1 - (0.174^0.174 · 0.826^0.826)² = 1 - exp(2 · -0.46217) = 0.6032;
    # (i)   24 / ((0.9 - 1) · ln(1 - 0.288/0.9)) = 24 / 0.038566 = 622.3 -> 623
    # (ii)  S = 0.288 / (0.288 + 0.05 · 0.6032) = 0.90520; 24 / (0.09480 · 0.38290) = 661.2 -> 662
    # (iii) (1.96/0.05)² · 0.174 · 0.826 = 220.9 -> 221
    assert [(c["code"], c["n"]) for c in result["criteria"]] == [
        ("shrinkage", 623),
        ("optimism", 662),
        ("intercept", 221),
    ]
    assert [round(c["events_per_parameter"], 2) for c in result["criteria"]] == [4.52, 4.8, 1.6]
    assert result["required"] == 662
    assert round(result["events_per_parameter"], 2) == 4.8
    assert result["required_events"] == 116  # 662 · 0.174 = 115.2 events, rounded up
    assert result["max_r2_cs"] == pytest.approx(0.603, abs=5e-4)  # pmsampsize's Max_Rsq
    assert result["r2_nagelkerke"] == pytest.approx(0.477, abs=5e-4)  # pmsampsize's Nag_Rsq
    assert result["shrinkage"] == pytest.approx(0.905, abs=5e-4)  # pmsampsize's final Shrinkage
    # "You have 400; you need 662."
    assert (result["available"], result["enough"]) == (400, False)
    assert result["available_events_per_parameter"] == pytest.approx(70 / 24)


@pytest.mark.parametrize(
    ("r2_cs", "parameters", "prevalence", "sizes", "epp"),
    [  # pmsampsize 1.1.3, tests/testthat/test_bin.R: tests 4.2, 4.3, 4.4
        (0.55, 24, 0.174, [255, 532, 221], [1.85, 3.86, 1.6]),
        (0.288, 36, 0.174, [934, 992, 221], [4.51, 4.79, 1.07]),
        (0.288, 24, 0.25, [623, 590, 289], [6.49, 6.15, 3.01]),
    ],
)
def test_binary_matches_pmsampsize(r2_cs, parameters, prevalence, sizes, epp):
    result = riley_binary(parameters=parameters, prevalence=prevalence, r2_cs=r2_cs)
    assert [c["n"] for c in result["criteria"]] == sizes
    assert [round(c["events_per_parameter"], 2) for c in result["criteria"]] == epp
    assert result["required"] == max(sizes)
    assert result["enough"] is None


def test_survival_worked_example():
    result = riley_survival(parameters=30, r2_cs=0.051, rate=0.065, timepoint=2, mean_followup=2.07)
    # (i) 30 / (0.1 · -ln(1 - 0.051/0.9)) = 30 / 0.0058340 = 5142.3 -> 5143; events 5143 · 0.13455 = 692.
    assert result["criteria"][0]["n"] == 5143
    assert result["required"] == 5143
    assert result["required_events"] == 692
    assert round(result["events_per_parameter"], 2) == 23.07
    # The 2-year risk 1 - exp(-0.13) = 0.1219, and its 95 % bounds at N: person-time 5143 · 2.07 =
    # 10646.0, 1.96 · √(0.065 / 10646.0) = 0.004843, 1 - exp(-(0.065 ∓ 0.004843) · 2) = 0.1134, 0.1304:
    # pmsampsize prints int_lci 0.113, int_cuminc 0.122, int_uci 0.130.
    assert result["risk"] == pytest.approx([0.1219, 0.1134, 0.1304], abs=1e-4)
    assert result["person_time"] == pytest.approx(10646.01)
    # (iii) the smallest n with that upper bound within 0.05 of 0.1219: 141 (pmsampsize prints no n).
    criterion = result["criteria"][2]
    assert criterion["code"] == "risk"
    n = criterion["n"]
    upper = [1 - math.exp(-(0.065 + 1.96 * math.sqrt(0.065 / (m * 2.07))) * 2) for m in (n - 1, n)]
    assert upper[0] - (1 - math.exp(-0.13)) > 0.05 >= upper[1] - (1 - math.exp(-0.13))


@pytest.mark.parametrize(
    ("r2_cs", "parameters", "rate", "timepoint", "followup", "shrinkage_n", "optimism_n", "epp"),
    [  # pmsampsize 1.1.3, tests/testthat/test_surv.R: tests 3.1 to 3.9 (criteria 1, 2; EPP of 1, 2)
        (0.051, 25, 0.065, 2, 2.07, 4286, 866, [23.07, 4.66]),
        (0.065, 25, 0.065, 2, 2.07, 3335, 859, [17.95, 4.62]),
        (0.051, 50, 0.065, 2, 2.07, 8572, 1731, [23.07, 4.66]),
        (0.051, 25, 0.1, 2, 2.07, 4286, 731, [35.49, 6.05]),
        (0.051, 25, 0.065, 4, 2.07, 4286, 866, [23.07, 4.66]),
        (0.051, 25, 0.065, 2, 4, 4286, 679, [44.57, 7.06]),
        (0.06, 40, 0.08, 3, 5, 5798, 969, [57.98, 9.69]),
        (0.03, 10, 0.09, 3, 3, 2950, 272, [79.65, 7.34]),
        (0.3, 80, 0.03, 1, 5, 1974, 2272, [3.7, 4.26]),
    ],
)
def test_survival_matches_pmsampsize(
    r2_cs, parameters, rate, timepoint, followup, shrinkage_n, optimism_n, epp
):
    result = riley_survival(
        parameters=parameters, r2_cs=r2_cs, rate=rate, timepoint=timepoint, mean_followup=followup
    )
    assert [c["n"] for c in result["criteria"][:2]] == [shrinkage_n, optimism_n]
    assert [round(c["events_per_parameter"], 2) for c in result["criteria"][:2]] == epp
    # pmsampsize's final N is max(criteria 1, 2); criterion 3 never needs more in its tests.
    assert result["required"] == max(shrinkage_n, optimism_n)


@pytest.mark.parametrize(
    "arguments",
    [
        {"parameters": 0, "prevalence": 0.2, "r2_cs": 0.1},
        {"parameters": 10, "prevalence": 0.0, "r2_cs": 0.1},
        {"parameters": 10, "prevalence": 0.2, "r2_cs": 0.0},
        {"parameters": 10, "prevalence": 0.2, "r2_cs": 0.95},  # above the shrinkage
        {"parameters": 10, "prevalence": 0.01, "r2_cs": 0.2},  # max R2 at 1 % is 0.106
    ],
)
def test_impossible_binary_inputs_are_refused(arguments):
    with pytest.raises(ValueError):
        riley_binary(**arguments)


def test_r2_from_c_matches_a_simulated_logistic_fit():
    # The note's construction, simulated and fitted by statsmodels: non-events' linear predictor N(0, 1),
    # events' N(√2·Φ⁻¹(C), 1), 400,000 people; R2 = 1 - exp(-(null deviance - deviance)/n) (as pmsampsize).
    rng = np.random.default_rng(2021)
    n = 400_000
    for c, prevalence in [(0.89, 0.174), (0.75, 0.4)]:
        events = round(n * prevalence)
        mu = math.sqrt(2) * float(norm.ppf(c))
        x = np.r_[rng.normal(mu, 1, events), rng.normal(0, 1, n - events)]
        y = np.r_[np.ones(events), np.zeros(n - events)]
        fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit()
        simulated = 1 - math.exp(-(fit.null_deviance - fit.deviance) / n)
        assert r2_cs_from_c(c, prevalence) == pytest.approx(simulated, abs=0.004)
    assert r2_cs_from_c(0.5, 0.3) == pytest.approx(0, abs=1e-12)


def test_r2_from_c_feeds_the_criteria():
    # pmsampsize's example: C 0.89 at prevalence 0.174 stands for the 0.288 above (R2 about 0.29).
    r2 = r2_cs_from_c(0.89, 0.174)
    assert r2 == pytest.approx(0.29, abs=0.01)
    assert riley_binary(parameters=24, prevalence=0.174, r2_cs=r2)["required"] == pytest.approx(662, rel=0.02)
