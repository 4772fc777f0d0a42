"""Every number of the accuracy report, per model and centre, from the data read (pure: no database).

The result is the report's JSON as it is (``figures["format"]`` names its layout, reports/README.md
describes it): plain ints, floats, strings, lists and None, from the frozen dataclasses of
``reports.accuracy`` through ``dataclasses.asdict``. The PDF (reports/pdf/stard) draws it and prints nothing
else.

- **Threshold**: per model, Youden's J on the development centre's analysed vertebrae
  (``youden_threshold``), applied unchanged to the external centre (``confusion_matrix_at``). Without acute
  and chronic vertebrae at the development centre there is none (``threshold.reason``), and no 2x2.
- **Per centre**: the 2x2, sensitivity, specificity, accuracy, PPV and NPV with Wilson (or Clopper-Pearson)
  intervals, the AUC with its DeLong interval, the ROC curve, and the patient-clustered percentile intervals
  of all six by the cluster bootstrap (B resamples of patients, a fixed seed).
- **Comparisons**: the DeLong test of each pair of models on the same (analysed) vertebrae, per centre.
- **Segmentation**: mean Dice and SD per segmentation model and centre, on the vertebrae with a Dice outside
  the model's training split (no reference standard needed).
"""

import dataclasses
import datetime
import hashlib
import itertools
import json

import numpy as np

from ..accuracy import (
    auc_delong,
    cluster_bootstrap,
    confusion_matrix_at,
    delong_test,
    diagnostic_accuracy,
    dice_summary,
    roc_curve_points,
    youden_threshold,
)
from .data import AccuracyData, Import, Vertebra
from .flow import COHORTS, TRAINING, classifiers, stard_flow

FORMAT = "spinetrial-accuracy-report/1"
INTERVALS = ("wilson", "clopper-pearson")
CONFIDENCE = 0.95
# The cluster bootstrap: 2,000 resamples give percentile bounds stable to about 0.005 (Efron & Tibshirani
# 1993, ch. 19) and take well under a second per model and centre; the seed makes the report reproducible.
N_RESAMPLES = 2000
SEED = 2015
# The cluster bootstrap's AUC needs no threshold; without one, this stands in for it and only the AUC is kept.
_ANY_THRESHOLD = 0.5


def accuracy_figures(
    data: AccuracyData,
    *,
    interval: str = "wilson",
    generated_by: str,
    generated_at: datetime.datetime,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> dict:
    """The report's figures (its JSON) for `data`, with `interval` ("wilson" or "clopper-pearson") for the
    five proportions. ValueError for another interval."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}, not {interval!r}")
    flow, analysed = stard_flow(data)
    models = classifiers(data)
    reference = np.array([data.readings[(v.participant, v.level)].acute for v in analysed], dtype=bool)
    cohorts = np.array([v.cohort for v in analysed])
    clusters = np.array([v.study_id for v in analysed])  # by study ID, not key: the same data, the same draws
    scores = {
        m.id: np.array(
            [data.outputs[(v.participant, v.level)][m.id].probability for v in analysed], dtype=float
        )
        for m in models
    }
    boot = {"n_resamples": n_resamples, "seed": seed}
    results = [
        _model(m, scores[m.id], reference, cohorts, clusters, interval=interval, boot=boot) for m in models
    ]
    return {
        "format": FORMAT,
        "study": {k: data.study[k] for k in ("code", "title", "protocol_version", "groups")},
        "generated": {
            "by": generated_by,
            "at": generated_at.astimezone(datetime.UTC).replace(microsecond=0).isoformat(),
        },
        "lock": {"locked": data.lock is not None, **(data.lock or {})},
        "imports": [dataclasses.asdict(i) for i in data.imports],
        "dataset_sha256": dataset_sha256(data),
        "methods": {
            "confidence": CONFIDENCE,
            "proportions": interval,
            "auc": "delong",
            "comparison": "delong",
            "threshold": "youden_development",
            "clustered": {"method": "cluster_bootstrap_percentile", "cluster": "patient", **boot},
            "unit": "vertebra",
            "positive": "acute",
            "called_acute": "score >= threshold",
            "excluded_split": TRAINING,
        },
        "flow": flow,
        "models": results,
        "comparisons": _comparisons(models, scores, reference, cohorts),
        "segmentation": _segmentation(data),
    }


def _model(m: Import, scores, reference, cohorts, clusters, *, interval: str, boot: dict) -> dict:
    dev = cohorts == "development"
    threshold = _threshold(reference[dev], scores[dev])
    return {
        "import_id": m.id,
        "model": m.model,
        "model_version": m.model_version,
        "label": m.label,
        "threshold": threshold,
        "centres": [
            {
                "cohort": cohort,
                **_centre(
                    scores[cohorts == cohort],
                    reference[cohorts == cohort],
                    clusters[cohorts == cohort],
                    threshold["value"],
                    interval=interval,
                    boot=boot,
                ),
            }
            for cohort in COHORTS
        ],
    }


def _threshold(reference, scores) -> dict:
    """Youden's J on the development centre; None with a reason without both classes there."""
    if not reference.any() or reference.all():
        reason = "no_development_vertebrae" if not len(reference) else "development_one_class"
        return {"value": None, "j": None, "sensitivity": None, "specificity": None, "reason": reason}
    chosen = youden_threshold(reference=reference, scores=scores)
    return {
        "value": chosen.threshold,
        "j": chosen.j,
        "sensitivity": chosen.sensitivity,
        "specificity": chosen.specificity,
        "reason": None,
    }


def _centre(scores, reference, clusters, threshold, *, interval: str, boot: dict) -> dict:
    acute = int(reference.sum())
    centre = {
        "vertebrae": len(reference),
        "cases": len(set(clusters.tolist())),
        "acute": acute,
        "chronic": len(reference) - acute,
        "auc": dataclasses.asdict(auc_delong(reference=reference, scores=scores, confidence=CONFIDENCE)),
        "matrix": None,
        "estimates": None,
        "clustered": None,
        "roc": None,
    }
    if acute and len(reference) - acute:
        curve = roc_curve_points(reference=reference, scores=scores)
        centre["roc"] = {"fpr": list(curve.fpr), "tpr": list(curve.tpr)}
    if threshold is not None:
        matrix = confusion_matrix_at(reference=reference, scores=scores, threshold=threshold)
        estimates = diagnostic_accuracy(matrix, method=interval, confidence=CONFIDENCE)
        centre["matrix"] = dataclasses.asdict(matrix)
        centre["estimates"] = {
            name: dataclasses.asdict(getattr(estimates, name))
            for name in ("sensitivity", "specificity", "accuracy", "ppv", "npv")
        }
    if len(reference):
        result = cluster_bootstrap(
            reference=reference,
            scores=scores,
            clusters=clusters,
            threshold=_ANY_THRESHOLD if threshold is None else threshold,
            confidence=CONFIDENCE,
            **boot,
        )
        names = ("sensitivity", "specificity", "accuracy", "ppv", "npv", "auc")
        centre["clustered"] = {
            name: dataclasses.asdict(getattr(result, name))
            for name in names
            if threshold is not None or name == "auc"
        }
    return centre


def _comparisons(models: list[Import], scores: dict, reference, cohorts) -> list[dict]:
    """The DeLong test of each pair of models (in the models' order), per centre."""
    found = []
    for cohort in COHORTS:
        rows = cohorts == cohort
        for a, b in itertools.combinations(models, 2):
            test = delong_test(
                reference=reference[rows],
                scores_a=scores[a.id][rows],
                scores_b=scores[b.id][rows],
                confidence=CONFIDENCE,
            )
            found.append({"cohort": cohort, "a": a.label, "b": b.label, **dataclasses.asdict(test)})
    return found


def _segmentation(data: AccuracyData) -> list[dict]:
    """Mean Dice and SD per segmentation model and centre (its training split left out)."""
    found = []
    for m in (i for i in data.imports if i.kind == "segmentation"):
        for cohort in COHORTS:
            dice = [
                out.dice
                for v in data.vertebrae
                if v.cohort == cohort
                and not v.withdrawn
                and (out := data.outputs.get((v.participant, v.level), {}).get(m.id)) is not None
                and out.dice is not None
                and out.split != TRAINING
            ]
            found.append(
                {
                    "label": m.label,
                    "import_id": m.id,
                    "cohort": cohort,
                    **dataclasses.asdict(dice_summary(dice=dice)),
                }
            )
    return found


def _vertebra_row(v: Vertebra, data: AccuracyData, names: dict[int, list]) -> list:
    reading = data.readings.get((v.participant, v.level))
    outputs = data.outputs.get((v.participant, v.level), {})
    return [
        v.study_id,
        v.level,
        v.group,
        v.cohort,
        v.withdrawn,
        [reading.status, reading.acute] if reading else None,
        sorted([*names[i], o.split, o.probability, o.dice] for i, o in outputs.items()),
    ]


def dataset_sha256(data: AccuracyData) -> str:
    """The SHA-256 of the data the report is computed from, serialised canonically (sorted keys, rows in
    sorted): the same data always gives the same hash, whatever the database's ids (imports are named by
    model, model version and import version)."""
    names = {i.id: [i.model, i.model_version, i.version] for i in data.imports}
    canonical = {
        "study": data.study,
        "screenings": sorted([o, sorted(failed), reason, r] for o, failed, reason, r in data.screenings),
        "vertebrae": sorted(_vertebra_row(v, data, names) for v in data.vertebrae),
        "imports": sorted(
            [i.model, i.model_version, i.version, i.kind, i.sha256, i.rows, i.imported_at, i.file_name]
            for i in data.imports
        ),
        "lock": data.lock,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
