import pytest

from trial.demo.truth import vertebra_is_acute


def test_the_index_vertebra_is_as_the_group_says():
    for group, expected in (("acute", True), ("chronic", False)):
        assert (
            vertebra_is_acute(seed=1, study_id="NC-001", group=group, levels=["L1", "T12"], level="L1")
            is expected
        )


def test_other_vertebrae_are_drawn_from_the_seed_alone_and_older_more_often_than_not():
    def share(group):
        calls = [
            vertebra_is_acute(seed=7, study_id=f"X-{i:04d}", group=group, levels=["L1", "T12"], level="T12")
            for i in range(4000)
        ]
        return sum(calls) / len(calls)

    assert share("acute") == pytest.approx(0.35, abs=0.03)
    assert share("chronic") == pytest.approx(0.10, abs=0.02)
    again = [vertebra_is_acute(seed=7, study_id="X-0001", group="acute", levels=["L1", "T12"], level="T12")]
    assert again * 3 == [
        vertebra_is_acute(seed=7, study_id="X-0001", group="acute", levels=["L1", "T12"], level="T12")
        for _ in range(3)
    ]


def test_a_level_not_registered_is_refused():
    with pytest.raises(ValueError, match="L3 is not one of"):
        vertebra_is_acute(seed=1, study_id="X", group="acute", levels=["L1"], level="L3")
