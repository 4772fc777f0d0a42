"""Which studies the accuracy report is for (reports/stard/report.py, accuracy_offered): a protocol analysed
per vertebra whose reference standard is read per registered vertebra; not one analysed per participant, nor
one whose adjudication asks another question (a follow-up MRI's new fracture is no reference standard)."""

from types import SimpleNamespace

import pytest

from reports.stard.report import accuracy_offered

READ_PER_VERTEBRA = {
    "question": {
        "code": "acute",
        "label": {"en": "Acute?", "zh-hans": "急性？"},  # noqa: RUF001
        "positive": {"en": "Acute", "zh-hans": "急性"},
        "negative": {"en": "Chronic", "zh-hans": "慢性"},
    },
    "asks": [],
    "cases": "registered_levels",
}


def study_with(definition: dict | None):
    version = None if definition is None else SimpleNamespace(definition=definition)
    return SimpleNamespace(current_version=version)


@pytest.mark.parametrize(
    ("definition", "offered"),
    [
        ({"design": {"unit": "vertebra"}, "adjudication": READ_PER_VERTEBRA}, True),
        ({"design": {"unit": "vertebra"}}, False),  # the default question: new fractures from follow-up MRIs
        (
            {"design": {"unit": "vertebra"}, "adjudication": {**READ_PER_VERTEBRA, "cases": "follow_up_mri"}},
            False,
        ),
        ({"adjudication": READ_PER_VERTEBRA}, False),  # analysed per participant
        (None, False),  # no protocol loaded
    ],
)
def test_the_report_is_for_vertebrae_read_against_a_per_vertebra_reference(definition, offered):
    assert accuracy_offered(study_with(definition)) is offered
