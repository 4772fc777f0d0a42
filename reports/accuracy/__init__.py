"""The statistics of the STARD 2015 accuracy report (issue 14). Pure: no database, no models, no settings.

Acute is the positive class; a vertebra is the unit, grouped by patient. Every result is a frozen dataclass
of Python ints, floats, strings, tuples and None (never numpy scalars, never NaN or infinity), so
``dataclasses.asdict(result)`` goes into JSON as it is. What cannot be computed from the data is None with a
``reason``: a stable code, explained in ``REASONS`` (reasons.py) for the report to translate.

- ``binary``: the 2x2 table (``confusion_matrix``, ``confusion_matrix_at``), sensitivity, specificity,
  accuracy, PPV, NPV with Wilson or Clopper-Pearson intervals (``diagnostic_accuracy``, ``proportion``), the
  Youden threshold chosen on the development set (``youden_threshold``).
- ``roc``: AUC (Mann-Whitney) with its DeLong interval (``auc_delong``), the DeLong test of two models on the
  same vertebrae (``delong_test``), the covariance matrix (``delong_covariance``), the ROC points
  (``roc_curve_points``).
- ``bootstrap``: patient-clustered percentile intervals of all six (``cluster_bootstrap``).
- ``segmentation``: mean Dice and sample SD per model (``dice_summary``, ``dice_by_model``).
- ``sample_size``: the registry's Buderer calculation (``buderer_sample_size``).
"""

from reports.accuracy.binary import (
    ConfusionMatrix,
    DiagnosticAccuracy,
    Estimate,
    YoudenThreshold,
    confusion_matrix,
    confusion_matrix_at,
    diagnostic_accuracy,
    proportion,
    youden_threshold,
)
from reports.accuracy.bootstrap import BootstrapInterval, ClusterBootstrap, cluster_bootstrap
from reports.accuracy.reasons import REASONS
from reports.accuracy.roc import (
    Auc,
    AucComparison,
    DelongCovariance,
    RocCurve,
    auc_delong,
    auc_mann_whitney,
    delong_covariance,
    delong_test,
    roc_curve_points,
)
from reports.accuracy.sample_size import SampleSize, buderer_sample_size
from reports.accuracy.segmentation import DiceSummary, dice_by_model, dice_summary

__all__ = [
    "REASONS",
    "Auc",
    "AucComparison",
    "BootstrapInterval",
    "ClusterBootstrap",
    "ConfusionMatrix",
    "DelongCovariance",
    "DiagnosticAccuracy",
    "DiceSummary",
    "Estimate",
    "RocCurve",
    "SampleSize",
    "YoudenThreshold",
    "auc_delong",
    "auc_mann_whitney",
    "buderer_sample_size",
    "cluster_bootstrap",
    "confusion_matrix",
    "confusion_matrix_at",
    "delong_covariance",
    "delong_test",
    "diagnostic_accuracy",
    "dice_by_model",
    "dice_summary",
    "proportion",
    "roc_curve_points",
    "youden_threshold",
]
