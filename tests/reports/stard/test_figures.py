"""The accuracy report's numbers (reports/stard/figures.py) on the hand-built study of conftest.py, each
against its hand-worked value or an independent reference: the 2x2 tables and the five proportions worked by
hand, Wilson intervals from the score formula written here, Clopper-Pearson from the beta quantiles, the AUC
from scikit-learn's roc_auc_score, DeLong and the cluster bootstrap from reports.accuracy's tested
functions called directly on the same vertebrae."""

import datetime
import math

import numpy as np
import pytest
from scipy.stats import beta, norm
from sklearn.metrics import roc_auc_score

from reports.accuracy import cluster_bootstrap, delong_test, youden_threshold
from reports.stard.data import accuracy_data_read
from reports.stard.figures import accuracy_figures

from .conftest import DEVELOPMENT, EXTERNAL

pytestmark = pytest.mark.django_db
AT = datetime.datetime(2026, 10, 1, 1, 0, tzinfo=datetime.UTC)


def figures_of(world, interval="wilson"):
    data = accuracy_data_read(study=world.study)
    return accuracy_figures(data, interval=interval, generated_by="tester", generated_at=AT)


def model(figures, label):
    return next(m for m in figures["models"] if m["label"] == label)


def centre(figures, label, cohort):
    return next(c for c in model(figures, label)["centres"] if c["cohort"] == cohort)


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval, from its formula (shared/domain.md)."""
    p = k / n
    centre_, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre_ - half) / (1 + z * z / n), (centre_ + half) / (1 + z * z / n)


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    lo = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    hi = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return lo, hi


def columns(cases: dict, which: int) -> tuple[list[bool], list[float]]:
    """(reference, scores of model `which`: 2 = A, 3 = B) of the conftest table."""
    rows = [v for _group, vertebrae in cases.values() for v in vertebrae]
    return [r[1] for r in rows], [r[which] for r in rows]


def test_the_threshold_is_youdens_on_the_development_centre_ties_to_the_lowest(world):
    figures = figures_of(world)
    a, b = model(figures, "VGG-16 1.0")["threshold"], model(figures, "ViT 1.0")["threshold"]
    assert (a["value"], a["j"], a["sensitivity"], a["specificity"]) == (0.4, 0.75, 1.0, 0.75)
    assert (b["value"], b["j"], b["sensitivity"], b["specificity"]) == (0.55, 0.5, 0.75, 0.75)


def test_the_2x2_tables_are_the_hand_worked_ones_the_threshold_carried_to_the_external_centre(world):
    figures = figures_of(world)
    expected = {
        ("VGG-16 1.0", "development"): {"tp": 4, "fn": 0, "fp": 1, "tn": 3},
        ("ViT 1.0", "development"): {"tp": 3, "fn": 1, "fp": 1, "tn": 3},
        ("VGG-16 1.0", "external_validation"): {"tp": 3, "fn": 1, "fp": 2, "tn": 1},
        ("ViT 1.0", "external_validation"): {"tp": 2, "fn": 2, "fp": 1, "tn": 2},
    }
    for (label, cohort), matrix in expected.items():
        assert centre(figures, label, cohort)["matrix"] == matrix, (label, cohort)
    # Not chosen again on the external data, where Youden's J would pick 0.5 for A.
    reference, scores = columns(EXTERNAL, 2)
    assert youden_threshold(reference=reference, scores=scores).threshold == 0.5
    assert model(figures, "VGG-16 1.0")["threshold"]["value"] == 0.4


@pytest.mark.parametrize("interval", ["wilson", "clopper-pearson"])
def test_the_five_proportions_and_their_intervals(world, interval):
    figures = figures_of(world, interval)
    reference_interval = wilson if interval == "wilson" else clopper_pearson
    worked = {  # (numerator, denominator) by hand, external centre (conftest)
        "VGG-16 1.0": {"sensitivity": (3, 4), "specificity": (1, 3), "accuracy": (4, 7), "ppv": (3, 5),
                       "npv": (1, 2)},
        "ViT 1.0": {"sensitivity": (2, 4), "specificity": (2, 3), "accuracy": (4, 7), "ppv": (2, 3),
                    "npv": (2, 4)},
    }  # fmt: skip
    for label, measures in worked.items():
        estimates = centre(figures, label, "external_validation")["estimates"]
        for name, (k, n) in measures.items():
            got = estimates[name]
            assert (got["numerator"], got["denominator"]) == (k, n), (label, name)
            assert got["value"] == pytest.approx(k / n)
            assert (got["lo"], got["hi"]) == pytest.approx(reference_interval(k, n), abs=1e-9)
            assert got["method"] == interval and got["confidence"] == 0.95
    # Development: A has sensitivity 4/4 (Wilson's upper bound 1, lower from the formula).
    dev = centre(figures, "VGG-16 1.0", "development")["estimates"]["sensitivity"]
    assert (dev["numerator"], dev["denominator"], dev["hi"]) == (4, 4, 1.0)
    assert dev["lo"] == pytest.approx(reference_interval(4, 4)[0], abs=1e-9)


def test_the_auc_is_scikit_learns_with_the_delong_interval(world):
    figures = figures_of(world)
    for cases, cohort in ((DEVELOPMENT, "development"), (EXTERNAL, "external_validation")):
        for which, label in ((2, "VGG-16 1.0"), (3, "ViT 1.0")):
            reference, scores = columns(cases, which)
            auc = centre(figures, label, cohort)["auc"]
            assert auc["auc"] == pytest.approx(roc_auc_score(reference, scores)), (label, cohort)
            assert auc["method"] == "delong" and auc["se"] > 0
            z = norm.ppf(0.975)
            assert auc["lo"] == pytest.approx(max(0.0, auc["auc"] - z * auc["se"]))
            assert auc["hi"] == pytest.approx(min(1.0, auc["auc"] + z * auc["se"]))
    # By hand: A at the development centre, 15 of 16 (acute, chronic) pairs in order.
    assert centre(figures, "VGG-16 1.0", "development")["auc"]["auc"] == 15 / 16
    assert centre(figures, "VGG-16 1.0", "external_validation")["auc"]["auc"] == pytest.approx(8.5 / 12)


def test_the_models_are_compared_by_delong_on_the_same_vertebrae(world):
    figures = figures_of(world)
    assert [(c["cohort"], c["a"], c["b"]) for c in figures["comparisons"]] == [
        ("development", "VGG-16 1.0", "ViT 1.0"),
        ("external_validation", "VGG-16 1.0", "ViT 1.0"),
    ]
    for comparison, cases in zip(figures["comparisons"], (DEVELOPMENT, EXTERNAL), strict=True):
        reference, a = columns(cases, 2)
        _, b = columns(cases, 3)
        expected = delong_test(reference=reference, scores_a=a, scores_b=b)
        assert comparison["difference"] == pytest.approx(expected.difference)
        assert comparison["z"] == pytest.approx(expected.z) and comparison["p"] == pytest.approx(expected.p)
        assert (comparison["n_positive"], comparison["n_negative"]) == (
            sum(reference),
            len(reference) - sum(reference),
        )


def test_the_patient_clustered_intervals_are_the_cluster_bootstraps_with_the_stated_resamples_and_seed(world):
    figures = figures_of(world)
    assert figures["methods"]["clustered"] == {
        "method": "cluster_bootstrap_percentile", "cluster": "patient", "n_resamples": 2000, "seed": 2015,
    }  # fmt: skip
    reference, scores = columns(EXTERNAL, 2)
    patients = [name for name, (_g, vertebrae) in EXTERNAL.items() for _v in vertebrae]
    expected = cluster_bootstrap(
        reference=reference, scores=scores, clusters=patients, threshold=0.4, n_resamples=2000, seed=2015
    )
    got = centre(figures, "VGG-16 1.0", "external_validation")["clustered"]
    for name in ("sensitivity", "specificity", "accuracy", "ppv", "npv", "auc"):
        assert (got[name]["lo"], got[name]["hi"]) == pytest.approx(
            (getattr(expected, name).lo, getattr(expected, name).hi)
        ), name
    assert got["sensitivity"]["estimate"] == 0.75
    ext = centre(figures, "VGG-16 1.0", "external_validation")
    assert (ext["vertebrae"], ext["cases"], ext["acute"], ext["chronic"]) == (7, 5, 4, 3)


def test_the_segmentation_models_dice(world):
    figures = figures_of(world)
    dev, ext = figures["segmentation"]
    assert (dev["label"], dev["cohort"], dev["n"]) == ("U-Net 2.1", "development", 3)  # training left out
    assert dev["mean"] == pytest.approx(0.85) and dev["sd"] == pytest.approx(0.05)
    assert dev["sd"] == pytest.approx(np.std([0.9, 0.8, 0.85], ddof=1))
    assert (ext["n"], ext["mean"], ext["sd"], ext["reason"]) == (1, 0.7, None, "one_value")
