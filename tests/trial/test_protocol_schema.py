"""The declared schema of protocol files (trial/protocol_schema.py, with the `forms:` section of crf and the
`visits:` section of followup): every shipped file passes, each problem is one line naming where it is,
nothing is coerced, and the data comes back as written. Pure: no database."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings

from trial.services.protocols import ProtocolFileError, _fingerprint, protocol_parse

SHIPPED = sorted(Path(settings.PROTOCOL_DIR).glob("*.yaml"))
FIXTURES = sorted((Path(__file__).resolve().parent.parent / "followup" / "protocols").glob("*.yaml"))
NCT06379243 = Path(settings.PROTOCOL_DIR) / "NCT06379243.yaml"


def shipped() -> dict:
    return yaml.safe_load(NCT06379243.read_text(encoding="utf-8"))


def problems_of(change) -> list[str]:
    data = shipped()
    change(data)
    with pytest.raises(ProtocolFileError) as info:
        protocol_parse(yaml.safe_dump(data, allow_unicode=True))
    return str(info.value).split("; ")


@pytest.mark.parametrize("path", SHIPPED + FIXTURES, ids=lambda path: path.name)
def test_every_shipped_protocol_file_passes_and_comes_back_as_written(path):
    text = path.read_text(encoding="utf-8")
    data = protocol_parse(text)
    written = yaml.safe_load(text)
    # Nothing coerced or filled in (a site keeps no time_zone it did not give), so the fingerprint that
    # tells an amendment from an unchanged file is the one of the file as written.
    assert data == {"study_id_format": "{site}-{number:04d}", **written}
    assert _fingerprint(data) == _fingerprint({"study_id_format": "{site}-{number:04d}", **written})
    # A prospective study follows its participants; a retrospective one has no visits (test_protocol_design).
    retrospective = (data.get("design") or {}).get("registration") == "retrospective"
    assert "forms" in data and ("visits" in data) != retrospective


def test_a_left_out_study_id_format_gets_its_default_and_nothing_else():
    data = shipped()
    del data["study_id_format"]
    del data["sites"][0]["time_zone"]
    parsed = protocol_parse(yaml.safe_dump(data, allow_unicode=True))
    assert parsed["study_id_format"] == "{site}-{number:04d}"
    assert "time_zone" not in parsed["sites"][0]


# Each change to the shipped NCT06379243.yaml, and the one line that names it: where, then what.
CASES = [
    # Codes are quoted strings: unquoted YAML reads 07 as 7 and 1.10 as 1.1.
    (lambda d: d["sites"][0].update(code=7), "sites[0] code: write it as a quoted string, e.g. '07' (got 7)"),
    (lambda d: d.update(version=1.1), "version: write it as a quoted string, e.g. '1.0' (got 1.1)"),
    (lambda d: d.update(code="NCT/1"), "code: 'NCT/1' does not match ^[A-Za-z0-9_-]{1,32}$"),
    (
        lambda d: d["criteria"][0].update(code=1),
        "criteria[0] code: write it as a quoted string, e.g. 'INC1' (got 1)",
    ),
    (
        lambda d: d["sites"][0].update(code="07-A"),
        "sites[0] (07-A) code: '07-A' does not match ^[A-Za-z0-9]{1,8}$",
    ),
    # No silent coercion: a bool is not a number, "365" is not 365, "2023-12-01" is not a date.
    (
        lambda d: d.update(target_enrollment=True),
        "target_enrollment: must be a positive whole number (got True)",
    ),
    (
        lambda d: d.update(follow_up_days="365"),
        "follow_up_days: must be a positive whole number of days (got '365')",
    ),
    (
        lambda d: d.update(target_enrollment=560.0),
        "target_enrollment: must be a positive whole number (got 560.0)",
    ),
    (
        lambda d: d.update(effective_date="2023-12-01"),
        "effective_date: must be a date (YYYY-MM-DD) (got '2023-12-01')",
    ),
    # Texts in every language, none blank, no other.
    (
        lambda d: d.update(title={"en": "A title"}),
        "title: give the text in en and zh-hans (each not blank, no other language)",
    ),
    (
        lambda d: d["sites"][0]["name"].update({"zh-hans": "  "}),
        "sites[0] (07) name: give the text in en and zh-hans (each not blank, no other language)",
    ),
    (
        lambda d: d["criteria"][1]["text"].update(fr="Texte"),
        "criteria[1] (INC2) text: give the text in en and zh-hans (each not blank, no other language)",
    ),
    (lambda d: d.update(sponsor=""), "sponsor: give the sponsor's name (got '')"),
    # Unknown keys are errors: a typo would otherwise be ignored (here the site would fall back silently to
    # Asia/Shanghai).
    (lambda d: d["sites"][0].update(timezone="Europe/Paris"), "sites[0] (07): unknown key(s) timezone"),
    (lambda d: d.update(target=600, sponsors="x"), "unknown key(s) sponsors, target"),
    (lambda d: d["criteria"][0].update(rules=None), "criteria[0] (INC1): unknown key(s) rules"),
    (lambda d: d.pop("criteria"), "missing criteria"),
    # A key that is there has a value: an empty one is a mistake, not a way of leaving it out.
    (lambda d: d.update(effective_date=None), "effective_date: must be a date (YYYY-MM-DD) (got None)"),
    (lambda d: d["criteria"][0].update(rule=None), "criteria[0] (INC1) rule: a rule is a non-empty mapping"),
    (
        lambda d: d["visits"].update(unscheduled=None),
        "visits.unscheduled: a mapping with label, forms and questionnaires",
    ),
    (lambda d: d["criteria"][2].pop("kind"), "criteria[2] (INC3): missing kind"),
    (lambda d: d.update(sites=[]), "sites: list at least one site"),
    (lambda d: d.update(criteria={"INC1": "x"}), "criteria: list at least one criterion"),
    (lambda d: d["sites"].append("SY"), "sites[1]: must be a mapping (got 'SY')"),
    (
        lambda d: d["sites"][0].update(time_zone="Mars/Olympus"),
        "sites[0] (07) time_zone: unknown time zone (got 'Mars/Olympus')",
    ),
    (
        lambda d: d["sites"].append(dict(d["sites"][0])),
        "sites[1] (07) code: duplicate code '07' (first at [0])",
    ),
    (
        lambda d: d["criteria"][0].update(kind="inclusive"),
        "criteria[0] (INC1) kind: must be 'inclusion' or 'exclusion' (got 'inclusive')",
    ),
    # A computed criterion's rule, checked by trial/eligibility.rule_errors.
    (
        lambda d: d["criteria"][2].update(rule={"fracture_levels": {"within": ["L5", "T5"]}}),
        "criteria[2] (INC3) rule: fracture_levels: the first level of 'within' must be cranial to the second",
    ),
    (
        lambda d: d["criteria"][2].update(rule={"bmi": {"min": 18}}),
        "criteria[2] (INC3) rule: unknown rule key 'bmi'",
    ),
    (
        lambda d: d["criteria"][2].update(rule={"imaging": {"modalities": ["CT", "mr"]}}),
        "criteria[2] (INC3) rule: imaging: 'modalities' must list distinct DICOM modalities in capitals, "
        "e.g. [CT, MR]",
    ),
    # The study ID format: both parts used, a format Python can fill in.
    (lambda d: d.update(study_id_format="{number:04d}"), "study_id_format: must use {site} and {number}"),
    (lambda d: d.update(study_id_format="{site}-0001"), "study_id_format: must use {site} and {number}"),
    (
        lambda d: d.update(study_id_format="{site.name}-{number}"),
        "study_id_format: not a valid format: 'str' object has no attribute 'name'",
    ),
    (
        lambda d: d.update(study_id_format=1),
        "study_id_format: must be a string such as '{site}-{number:04d}' (got 1)",
    ),
    # crf's `forms:` section.
    (lambda d: d.update(forms="baseline"), "forms: must be a list of form codes"),
    (lambda d: d["forms"].append("xray"), "forms[6]: no CRF form 'xray'"),
    (lambda d: d["forms"].append("dxa"), "forms[6]: 'dxa' is listed twice"),
    (lambda d: d.update(forms=None), "forms: must be a list of form codes"),
    # followup's `visits:` section (tests/followup/test_schedule.py has the rest).
    (
        lambda d: d.update(visits=None),
        "visits: a mapping with anchors, schedule and (optionally) unscheduled",
    ),
    (
        lambda d: d["visits"]["schedule"][1].update(window_before=31),
        "visits.schedule[1] (M1): the window opens before the anchor date (window_before > day)",
    ),
    (
        lambda d: d["visits"]["anchors"].update({"Procedure": {"participant": "consent_date"}}),
        "visits.anchors.Procedure: an anchor name matches ^[a-z][a-z0-9_]{0,31}$ (got 'Procedure')",
    ),
    (
        lambda d: d["visits"]["schedule"][0].update(day=True),
        "visits.schedule[0] (BL) day: must be a whole number of days, 0 or more (got True)",
    ),
    # followup's `endpoint:` section: its index is one of the visits' anchors.
    (
        lambda d: d["endpoint"].update(index="surgery"),
        "endpoint.index: 'surgery' is not one of visits.anchors",
    ),
    (
        lambda d: d.pop("visits"),
        "endpoint.index: the index date is one of visits.anchors: add `visits:`",
    ),
    (
        lambda d: d["endpoint"].update(horizon_days="365"),
        "endpoint.horizon_days: must be a positive whole number of days (got '365')",
    ),
    (
        lambda d: d["endpoint"].update(horizon_days=0),
        "endpoint.horizon_days: must be a positive whole number of days (got 0)",
    ),
    (
        lambda d: d["endpoint"].update(event_date="onset"),
        "endpoint.event_date: must be one of confirming_mri, symptom_onset_when_recorded (got 'onset')",
    ),
    (lambda d: d["endpoint"].update(horizon=365), "endpoint: unknown key(s) horizon"),
    (lambda d: d["endpoint"].pop("event_date"), "endpoint: missing event_date"),
    (lambda d: d.update(endpoint=None), "endpoint: a mapping with index, horizon_days and event_date"),
]


@pytest.mark.parametrize(("change", "line"), CASES, ids=[case[1] for case in CASES])
def test_each_problem_is_one_line_naming_where_it_is(change, line):
    assert line in problems_of(change)


def test_every_problem_of_every_section_is_listed_at_once():
    def change(d):
        d.update(target_enrollment=0, sponsors="x")
        d["sites"][0].update(code=7)
        d["criteria"][3]["text"].pop("zh-hans")
        d["forms"].append("xray")
        d["visits"]["schedule"][2].update(day=-1)
        d["visits"]["schedule"][4].update(questionnaires=["odi", "sf36"])

    assert problems_of(change) == [
        "target_enrollment: must be a positive whole number (got 0)",
        "sites[0] code: write it as a quoted string, e.g. '07' (got 7)",
        "criteria[3] (EXC1) text: give the text in en and zh-hans (each not blank, no other language)",
        "forms[6]: no CRF form 'xray'",
        "visits.schedule[2] (M3) day: must be a whole number of days, 0 or more (got -1)",
        "visits.schedule[4] (M12) questionnaires[1]: no questionnaire 'sf36' (choose from odi, vas)",
        "unknown key(s) sponsors",
    ]


def test_a_repeated_code_is_found_beside_the_other_problems_of_its_list():
    # The repeat needs only the codes, so a list with other problems still names it.
    def change(d):
        d["criteria"][0].update(kind="maybe")
        d["criteria"].append(dict(d["criteria"][1]))

    assert problems_of(change) == [
        "criteria[0] (INC1) kind: must be 'inclusion' or 'exclusion' (got 'maybe')",
        "criteria[6] (INC2) code: duplicate code 'INC2' (first at [1])",
    ]


@pytest.mark.parametrize("code", ["NCT06379243", "NCT06172179"])
def test_the_shipped_studies_declare_their_endpoint(code):
    data = protocol_parse((Path(settings.PROTOCOL_DIR) / f"{code}.yaml").read_text(encoding="utf-8"))
    assert data["endpoint"] == {"index": "procedure", "horizon_days": 365, "event_date": "confirming_mri"}
