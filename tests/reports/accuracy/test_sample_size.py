"""reports/accuracy/sample_size.py: Buderer's n per group, worked by hand, against the registry's 138."""

import pytest

from reports.accuracy import buderer_sample_size


def test_the_registry_calculation_by_hand():
    # NCT07306858: Se 0.90, alpha 0.05 (z = 1.96 as the registry writes it), allowable error d = 0.05.
    # 1.96² = 3.8416; 0.9 x 0.1 = 0.09; 3.8416 x 0.09 = 0.345744; 0.05² = 0.0025;
    # 0.345744 / 0.0025 = 138.2976.
    # The registry gives 138 per group: rounded to the nearest integer.
    result = buderer_sample_size(sensitivity=0.90, allowable_error=0.05)
    assert result.exact == pytest.approx(138.2976, abs=1e-9)
    assert (result.n, result.rounding, result.z) == (138, "nearest", 1.96)
    # The usual convention rounds up.
    assert buderer_sample_size(sensitivity=0.90, allowable_error=0.05, rounding="up").n == 139
    # The exact quantile 1.959964 gives 138.2925: the same 138.
    exact_z = buderer_sample_size(sensitivity=0.90, allowable_error=0.05, z=1.959964)
    assert exact_z.exact == pytest.approx(138.2925, abs=1e-4) and exact_z.n == 138


def test_other_inputs_by_hand():
    # Se 0.80, d 0.10: 3.8416 x 0.16 / 0.01 = 61.4656 → 61 to the nearest, 62 up.
    assert buderer_sample_size(sensitivity=0.80, allowable_error=0.10).exact == pytest.approx(61.4656)
    assert buderer_sample_size(sensitivity=0.80, allowable_error=0.10).n == 61
    assert buderer_sample_size(sensitivity=0.80, allowable_error=0.10, rounding="up").n == 62
    # Se 0.85, d 0.05: 3.8416 x 0.1275 / 0.0025 = 195.9216 → 196 either way.
    assert buderer_sample_size(sensitivity=0.85, allowable_error=0.05).n == 196


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sensitivity": 1.0, "allowable_error": 0.05},
        {"sensitivity": 0.9, "allowable_error": 0.0},
        {"sensitivity": 0.9, "allowable_error": 0.05, "z": -1.96},
        {"sensitivity": 0.9, "allowable_error": 0.05, "rounding": "down"},
    ],
)
def test_impossible_input_is_refused(kwargs):
    with pytest.raises(ValueError):
        buderer_sample_size(**kwargs)
