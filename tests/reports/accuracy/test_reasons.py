"""Every reason a result gives is a code listed in reports/accuracy/reasons.py; results are plain values."""

import dataclasses

from reports.accuracy import (
    REASONS,
    ConfusionMatrix,
    auc_delong,
    buderer_sample_size,
    cluster_bootstrap,
    confusion_matrix_at,
    delong_covariance,
    delong_test,
    diagnostic_accuracy,
    dice_summary,
    proportion,
    roc_curve_points,
    youden_threshold,
)


def _reasons(value) -> set[str]:
    """Every non-empty ``reason`` field anywhere inside a (nested) result."""
    found = set()
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if field.name == "reason" and item:
                found.add(item)
            found |= _reasons(item)
    return found


def test_every_reason_given_is_a_listed_code():
    results = [
        diagnostic_accuracy(ConfusionMatrix(0, 0, 0, 0)),
        diagnostic_accuracy(ConfusionMatrix(0, 0, 3, 0)),
        diagnostic_accuracy(ConfusionMatrix(0, 2, 0, 0)),
        proportion(name="p", numerator=0, denominator=0),
        auc_delong(reference=[1, 1], scores=[0.1, 0.2]),
        auc_delong(reference=[1, 0, 0], scores=[0.1, 0.2, 0.3]),
        delong_test(reference=[0, 0, 0, 1, 1, 1], scores_a=[1, 2, 3, 4, 5, 6], scores_b=[1] * 6),
        cluster_bootstrap(
            reference=[0, 0], scores=[0.1, 0.2], clusters=[1, 2], threshold=0.5, n_resamples=10
        ),
        dice_summary(dice=[]),
        dice_summary(dice=[0.5]),
    ]
    given = set().union(*(_reasons(r) for r in results))
    assert given <= set(REASONS), given - set(REASONS)
    # The checks above reach every listed code, so the list has none that no result uses.
    assert given == set(REASONS)


def _leaves(value):
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _leaves(getattr(value, field.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def test_results_hold_plain_python_values_only():
    reference = [1, 1, 0, 0, 1, 0]
    a, b = [0.9, 0.4, 0.6, 0.1, 0.8, 0.3], [0.7, 0.6, 0.5, 0.2, 0.4, 0.1]
    threshold = youden_threshold(reference=reference, scores=a)
    results = [
        threshold,
        diagnostic_accuracy(
            confusion_matrix_at(reference=reference, scores=a, threshold=threshold.threshold)
        ),
        auc_delong(reference=reference, scores=a),
        delong_test(reference=reference, scores_a=a, scores_b=b),
        delong_covariance(reference=reference, scores=[a, b]),
        roc_curve_points(reference=reference, scores=a),
        cluster_bootstrap(reference=reference, scores=a, clusters=[1, 1, 2, 3, 3, 4], threshold=0.5),
        dice_summary(dice=[0.8, 0.9]),
        buderer_sample_size(sensitivity=0.9, allowable_error=0.05),
    ]
    for result in results:
        # numpy's float64 passes json.dumps (it is a float subclass) but numpy's ints do not: exact types.
        kinds = {type(leaf) for leaf in _leaves(result)}
        assert kinds <= {int, float, str, bool, type(None)}, (type(result).__name__, kinds)
