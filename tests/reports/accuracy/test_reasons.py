"""Every reason a result can carry is a code listed, with its meaning, in reports/accuracy/reasons.py."""

import dataclasses

from reports.accuracy import (
    REASONS,
    ConfusionMatrix,
    auc_delong,
    cluster_bootstrap,
    delong_test,
    diagnostic_accuracy,
    dice_summary,
    proportion,
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
