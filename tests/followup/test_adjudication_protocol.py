"""The protocol's `adjudication:` section (followup/protocol.py, followup/question.py): what the adjudicators
are asked and where their cases come from. A protocol without it asks the re-fracture question from the
follow-up MRIs, every part asked; NCT07306858 asks acute or chronic per registered vertebra, the answer alone.
Each problem of the section is one line naming where it is. Pure: no database."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.utils import translation

from followup.question import CaseSource, Part, definition_question
from trial.services.protocols import ProtocolFileError, protocol_parse

PROTOCOLS = Path(settings.PROTOCOL_DIR)
SECTION = {
    "question": {
        "code": "acute",
        "label": {"en": "Acute?", "zh-hans": "急性?"},
        "positive": {"en": "Acute", "zh-hans": "急性"},
        "negative": {"en": "Chronic", "zh-hans": "慢性"},
    },
    "asks": [],
    "cases": "registered_levels",
}


def parsed(code: str) -> dict:
    return protocol_parse((PROTOCOLS / f"{code}.yaml").read_text(encoding="utf-8"))


def problems_of(code: str, section) -> list[str]:
    data = yaml.safe_load((PROTOCOLS / f"{code}.yaml").read_text(encoding="utf-8"))
    data["adjudication"] = section
    with pytest.raises(ProtocolFileError) as info:
        protocol_parse(yaml.safe_dump(data, allow_unicode=True))
    return str(info.value).split("; ")


@pytest.mark.parametrize("code", ["NCT06379243", "NCT06172179"])
def test_a_protocol_without_the_section_asks_the_re_fracture_question_from_follow_up_mris(code):
    data = parsed(code)
    assert "adjudication" not in data
    question = definition_question(data)
    assert (question.code, question.cases, question.asks) == (
        "new_fracture",
        CaseSource.FOLLOW_UP_MRI,
        Part.ALL,
    )
    assert question.label["en"] == "New non-operative vertebral fracture"
    assert (question.positive["en"], question.negative["en"]) == ("Yes", "No")
    with translation.override("en"):
        assert (question.text(), question.answer_text(True), question.answer_text(None)) == (
            "New non-operative vertebral fracture",
            "Yes",
            "—",
        )


def test_nct07306858_asks_acute_or_chronic_per_registered_vertebra_the_answer_alone():
    question = definition_question(parsed("NCT07306858"))
    assert (question.code, question.cases, question.asks) == ("acute", CaseSource.REGISTERED_LEVELS, ())
    assert question.per_registered_level
    assert question.label["en"] == "Acute fracture? (marrow oedema: low T1, high STIR/T2 signal)"
    assert (question.positive, question.negative) == (
        {"en": "Acute", "zh-hans": "急性"},
        {"en": "Chronic", "zh-hans": "慢性"},
    )
    with translation.override("zh-hans"):
        assert (question.answer_text(True), question.answer_text(False)) == ("急性", "慢性")


def test_the_default_source_of_a_section_that_names_none_is_the_follow_up_mri():
    section = {key: value for key, value in SECTION.items() if key != "cases"}
    assert definition_question({"adjudication": section}).cases == CaseSource.FOLLOW_UP_MRI


CASES = [
    (
        {**SECTION, "cases": "screening"},
        "adjudication.cases: must be one of follow_up_mri, registered_levels",
    ),
    (
        {**SECTION, "asks": ["grade"]},
        "adjudication.asks[0]: a part is one of levels, acute_signal, genant_grade",
    ),
    ({**SECTION, "asks": ["levels", "levels"]}, "adjudication.asks[1]"),
    (
        {**SECTION, "question": {**SECTION["question"], "positive": {"en": "Acute"}}},
        "adjudication.question.positive: give the text in en and zh-hans",
    ),
    ({**SECTION, "question": {**SECTION["question"], "code": "Acute!"}}, "adjudication.question.code"),
    ({**SECTION, "mode": "blind"}, "adjudication: unknown key(s) mode"),
    ({"asks": []}, "adjudication: missing question"),
]


@pytest.mark.parametrize(("section", "line"), CASES, ids=[case[1] for case in CASES])
def test_each_problem_of_the_section_is_one_line_naming_where_it_is(section, line):
    assert any(problem.startswith(line) for problem in problems_of("NCT07306858", section))


def test_a_protocol_whose_endpoint_dates_events_by_the_readers_asks_them_the_date():
    problems = problems_of("NCT06379243", SECTION)
    assert (
        "adjudication.asks: the protocol's endpoint dates events by the readers: ask event_date" in problems
    )
    data = yaml.safe_load((PROTOCOLS / "NCT06379243.yaml").read_text(encoding="utf-8"))
    data["adjudication"] = {**SECTION, "asks": list(Part.ALL), "cases": "follow_up_mri"}
    assert definition_question(protocol_parse(yaml.safe_dump(data, allow_unicode=True))).asks == Part.ALL


def test_registered_levels_cannot_share_their_cases_with_a_form_that_opens_cases():
    # NCT06379243's follow-up MRI form opens cases from its findings (crf/forms/followup_mri.yaml).
    problems = problems_of("NCT06379243", {**SECTION, "asks": list(Part.ALL)})
    expected = "cases are the registered levels, but form followup_mri opens cases from its findings"
    assert f"adjudication.cases: {expected}" in problems
