"""The `design:` section of a protocol file and a site's `cohort` (trial/protocol_schema.py): defaults that
keep the prospective files as they were, every problem of a bad design listed, and the retrospective
NCT07306858 loaded from its file with its age rule. Pure but for the loading tests."""

import copy
import datetime
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from trial.eligibility import CriterionSpec, ExamFact, Facts, judge
from trial.models import ProtocolVersion, Study
from trial.services.protocols import ProtocolFileError, protocol_parse

pytestmark = pytest.mark.frozen

PROTOCOLS = Path(settings.PROTOCOL_DIR)
RETROSPECTIVE = PROTOCOLS / "NCT07306858.yaml"


def written(name: str) -> dict:
    return yaml.safe_load((PROTOCOLS / name).read_text(encoding="utf-8"))


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ProtocolFileError) as info:
        protocol_parse(yaml.safe_dump(data, allow_unicode=True))
    return str(info.value).split("; ")


def changed(name: str, change) -> dict:
    data = copy.deepcopy(written(name))
    change(data)
    return data


def test_the_retrospective_study_parses_as_written():
    data = protocol_parse(RETROSPECTIVE.read_text(encoding="utf-8"))
    assert data["design"]["registration"] == "retrospective"
    assert data["design"]["unit"] == "vertebra"
    assert [(g["code"], g["target"]) for g in data["design"]["groups"]] == [("acute", 138), ("chronic", 138)]
    assert data["target_enrollment"] == 276
    assert [(s["code"], s["cohort"]) for s in data["sites"]] == [
        ("CQ1", "development"),
        ("EXT1", "external_validation"),
    ]
    assert "follow_up_days" not in data and "visits" not in data and "endpoint" not in data
    assert data["forms"] == ["dxa"]


def test_the_14_day_interval_criterion_is_computed_from_the_exams():
    interval = next(c for c in written("NCT07306858.yaml")["criteria"] if c["code"] == "INC2")
    assert "14" in interval["text"]["en"]
    assert interval["rule"]["imaging"] | {"body_parts": None} == {
        "modalities": ["CT", "MR"],
        "max_interval_days": 14,
        "body_parts": None,
    }


@pytest.mark.parametrize(("age", "outcome"), [(49, "ineligible"), (50, "eligible"), (51, "eligible")])
def test_the_minimum_age_is_the_criteria_50_not_the_registry_module_40(age, outcome):
    criteria = [
        CriterionSpec(code=c["code"], kind=c["kind"], rule=c.get("rule"))
        for c in protocol_parse(RETROSPECTIVE.read_text(encoding="utf-8"))["criteria"]
    ]
    asked = {c.code: c.kind == "inclusion" for c in criteria if not c.computed}  # every question passes
    exams = (
        ExamFact("CT", datetime.date(2026, 1, 1), ("LSPINE",)),
        ExamFact("MR", datetime.date(2026, 1, 5), ("LSPINE",)),
    )
    verdict = judge(criteria, facts=Facts(age=age, sex="female", exams=exams), answers=asked)
    assert verdict.outcome == outcome
    assert verdict.failed == ([] if outcome == "eligible" else ["INC5"])


def test_load_protocols_loads_all_three_files(db):
    call_command("load_protocols")
    assert set(Study.objects.values_list("code", flat=True)) == {"NCT06379243", "NCT06172179", "NCT07306858"}
    version = ProtocolVersion.objects.get(study__code="NCT07306858")
    assert (version.registration, version.retrospective, version.follow_up_days) == (
        "retrospective",
        True,
        None,
    )
    assert [g["code"] for g in version.groups] == ["acute", "chronic"]
    sites = dict(version.study.sites.values_list("code", "cohort"))
    assert sites == {"CQ1": "development", "EXT1": "external_validation"}
    prospective = ProtocolVersion.objects.get(study__code="NCT06379243")
    assert (prospective.registration, prospective.follow_up_days, prospective.groups) == (
        "prospective",
        365,
        [],
    )
    assert prospective.study.sites.get().cohort == ""


@pytest.mark.parametrize("name", ["NCT06379243.yaml", "NCT06172179.yaml"])
def test_the_prospective_files_declare_no_design_and_default_to_prospective(name):
    assert "design" not in written(name)
    explicit = changed(
        name, lambda d: d.update(design={"registration": "prospective", "unit": "participant"})
    )
    protocol_parse(yaml.safe_dump(explicit, allow_unicode=True))  # the defaults, written out, are valid


BAD_DESIGNS = [
    (
        lambda d: d["design"].update(registration="historical"),
        "design.registration: must be 'prospective' or 'retrospective' (got 'historical')",
    ),
    (lambda d: d["design"].update(unit="patient"), "design.unit: must be 'participant' or 'vertebra'"),
    (lambda d: d["design"].update(arms=[]), "design: unknown key(s) arms"),
    (lambda d: d["design"].update(groups=[]), "design.groups: list at least one group"),
    (
        lambda d: d["design"]["groups"][0].update(code="Acute"),
        "design.groups[0] (Acute) code: 'Acute' must be lower case letters, digits and _, starting with a "
        "letter",
    ),
    (
        lambda d: d["design"]["groups"][1].update(code="acute"),
        "design.groups[1] (acute) code: duplicate code 'acute' (first at [0])",
    ),
    (
        lambda d: d["design"]["groups"][0].update(target=0),
        "design.groups[0] (acute) target: must be a positive whole number (got 0)",
    ),
    (
        lambda d: d["design"]["groups"][0]["label"].pop("zh-hans"),
        "design.groups[0] (acute) label: give the text in en and zh-hans (each not blank, no other language)",
    ),
    (
        lambda d: d["design"]["groups"][0].update(target=100),
        "design.groups: the targets add up to 238, not target_enrollment (276)",
    ),
    (
        lambda d: d.update(follow_up_days=365),
        "follow_up_days: a retrospective study has no follow-up: leave it out",
    ),
    (
        lambda d: d["sites"][0].update(cohort="training"),
        "sites[0] (CQ1) cohort: must be 'development' or 'external_validation' (got 'training')",
    ),
]


@pytest.mark.parametrize(("change", "line"), BAD_DESIGNS, ids=[case[1] for case in BAD_DESIGNS])
def test_each_problem_of_a_design_is_one_line_naming_where_it_is(change, line):
    assert any(found.startswith(line) for found in problems_of(changed("NCT07306858.yaml", change)))


def test_a_prospective_study_without_follow_up_days_is_refused_beside_its_other_problems():
    def change(d):
        del d["follow_up_days"]
        d["sites"][0].update(cohort="training")

    assert problems_of(changed("NCT06379243.yaml", change)) == [
        "sites[0] (07) cohort: must be 'development' or 'external_validation' (got 'training')",
        "missing follow_up_days (a prospective study follows its participants)",
    ]
