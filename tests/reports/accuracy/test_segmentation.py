"""reports/accuracy/segmentation.py: mean Dice and sample SD per model, worked by hand."""

import dataclasses
import json
import math

import pytest

from reports.accuracy import DiceSummary, dice_by_model, dice_summary


def test_mean_and_sample_sd_by_hand():
    # 0.80, 0.90, 0.70: mean 2.40/3 = 0.80; squared deviations 0, 0.01, 0.01; sample SD (ddof 1)
    # √(0.02/2) = 0.1 (the population SD, ddof 0, would be √(0.02/3) = 0.0816).
    result = dice_summary(dice=[0.80, 0.90, 0.70])
    assert result.n == 3
    assert result.mean == pytest.approx(0.80, abs=1e-15)
    assert result.sd == pytest.approx(0.1, abs=1e-15)
    assert result.reason is None


def test_one_value_has_no_sd_and_none_has_no_mean():
    assert dice_summary(dice=[0.85]) == DiceSummary(1, 0.85, None, "one_value")
    assert dice_summary(dice=[]) == DiceSummary(0, None, None, "no_values")
    json.dumps(dataclasses.asdict(dice_summary(dice=[])), allow_nan=False)


def test_per_model():
    # U-Net 0.9, 0.8: mean 0.85, SD √((0.0025 + 0.0025)/1) = 0.0707. UNETR++ one value.
    result = dice_by_model(dice={"U-Net": [0.9, 0.8], "UNETR++": [0.75], "U-Mamba": (0.6, 0.7, 0.8)})
    assert list(result) == ["U-Mamba", "U-Net", "UNETR++"]
    assert result["U-Net"].mean == pytest.approx(0.85)
    assert result["U-Net"].sd == pytest.approx(math.sqrt(0.005))
    assert result["U-Mamba"].sd == pytest.approx(0.1)
    assert result["UNETR++"].sd is None


@pytest.mark.parametrize("bad", [1.2, -0.1, float("nan")])
def test_a_dice_outside_0_1_is_refused(bad):
    with pytest.raises(ValueError, match="between 0 and 1"):
        dice_summary(dice=[0.8, bad])
