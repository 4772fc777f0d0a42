"""Protocols as data: loading, amendments as new versions, and screenings keeping their version."""

import datetime

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from trial.models import ProtocolVersion, Screening, Study
from trial.services import screening_update
from trial.services.protocols import ProtocolFileError, protocol_load

from ..conftest import ELIGIBLE_ANSWERS

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen

SHIPPED = settings.PROTOCOL_DIR / "NCT06379243.yaml"


def amended(**changes) -> str:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data.update(changes)
    return yaml.safe_dump(data, allow_unicode=True)


def test_load_command_loads_every_shipped_protocol_once(db, capsys):
    call_command("load_protocols")
    call_command("load_protocols")
    assert set(Study.objects.values_list("code", flat=True)) == {"NCT06379243", "NCT06172179", "NCT07306858"}
    assert ProtocolVersion.objects.count() == 3
    assert "unchanged" in capsys.readouterr().out
    study = Study.objects.get(code="NCT06379243")
    assert study.current_version.target_enrollment == 560
    assert study.current_version.follow_up_days == 365
    assert [c.code for c in study.current_version.criteria.all()] == [
        "INC1",
        "INC2",
        "INC3",
        "EXC1",
        "EXC2",
        "EXC3",
    ]
    assert study.current_version.criteria.get(code="INC3").computed


def test_study_api_shows_target_sites_and_criteria(api):
    body = api.get("/api/v1/studies/NCT06379243/").json()
    assert body["target_enrollment"] == 560
    assert body["sites"] == [
        {
            "code": "07",
            "name": "The Seventh Affiliated Hospital, Sun Yat-sen University",
            "time_zone": "Asia/Shanghai",
            "cohort": "",
        }
    ]
    inc3 = next(c for c in body["criteria"] if c["code"] == "INC3")
    assert (inc3["kind"], inc3["computed"]) == ("inclusion", True)
    assert (
        api.get("/api/v1/studies/NCT06379243/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .json()["title"]
        .startswith("骨质")
    )
    assert [s["code"] for s in api.get("/api/v1/studies/").json()] == ["NCT06379243"]


def test_amendment_creates_a_new_version_and_old_screenings_keep_theirs(study, make_screening, coordinator):
    before = make_screening(levels=("T11", "T12", "L1", "L2"))
    assert before.outcome == "ineligible"  # four levels under version 1.0

    criteria = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["criteria"]
    for criterion in criteria:
        if criterion["code"] == "INC3":
            criterion["rule"]["fracture_count"]["max"] = 4
    result = protocol_load(text=amended(version="1.1", criteria=criteria), source_name="amendment-1.yaml")
    assert result.created and result.version.number == 2

    study.refresh_from_db()
    assert study.current_version.label == "1.1"
    after = make_screening(levels=("T11", "T12", "L1", "L2"))
    assert (after.protocol_version.label, after.outcome) == ("1.1", "eligible")

    before.refresh_from_db()
    assert (before.protocol_version.label, before.outcome) == ("1.0", "ineligible")
    # A correction re-judges under the screening's own version, never silently under the new one.
    screening_update(actor=coordinator, screening=before, data={"notes": "checked"}, reason="note")
    before.refresh_from_db()
    assert (before.protocol_version.label, before.outcome) == ("1.0", "ineligible")


def test_changed_content_with_the_same_label_is_refused(study):
    with pytest.raises(ProtocolFileError, match="new version label"):
        protocol_load(text=amended(target_enrollment=600), source_name="x.yaml")
    assert ProtocolVersion.objects.filter(study=study).count() == 1


def test_layout_and_comments_do_not_make_a_version(study):
    text = "# a comment\n" + SHIPPED.read_text(encoding="utf-8")
    assert not protocol_load(text=text, source_name="same.yaml").created


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code: [", "not valid YAML"),
        ("- a list", "mapping"),
        ("code: X", "missing version; missing title"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(db, text, message):
    with pytest.raises(ProtocolFileError, match=message):
        protocol_load(text=text, source_name="bad.yaml")
    assert not Study.objects.exists()


def test_every_problem_is_listed(db):
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["target_enrollment"] = 0
    data["sites"][0]["time_zone"] = "Mars/Olympus"
    data["criteria"][0]["kind"] = "maybe"
    data["criteria"][1]["text"] = {"en": "only English"}
    data["criteria"][2]["rule"] = {"fracture_count": {"min": 3, "max": 1}}
    data["criteria"].append(dict(data["criteria"][3]))
    with pytest.raises(ProtocolFileError) as info:
        protocol_load(text=yaml.safe_dump(data, allow_unicode=True), source_name="bad.yaml")
    message = str(info.value)
    for fragment in (
        "target_enrollment",
        "Mars/Olympus",
        "criteria[0] (INC1) kind: must be 'inclusion' or 'exclusion' (got 'maybe')",
        "zh-hans",
        "min is above max",
        "duplicate code",
    ):
        assert fragment in message


def test_screenings_are_never_rejudged_by_loading(study, make_screening):
    screening = make_screening(answers=ELIGIBLE_ANSWERS)
    protocol_load(text=amended(version="2.0", target_enrollment=600), source_name="v2.yaml")
    assert Screening.objects.get(pk=screening.pk).updated_at == screening.updated_at


def test_load_command_reports_a_bad_file(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("code: X\n", encoding="utf-8")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"bad\.yaml"):
        call_command("load_protocols", str(bad))


def test_dates_stay_dates(study):
    assert study.current_version.effective_date == datetime.date(2023, 12, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["sites"][0].update(code=7), "quoted string"),  # unquoted 07 in YAML
        (lambda d: d.update(version=1.1), "quoted string"),
        (lambda d: d["sites"][0].update(time_zone=["Asia/Shanghai"]), "unknown time zone"),
        (lambda d: d["criteria"][0].update(code="INC 1"), "does not match"),
        (lambda d: d.update(code="NCT/1"), "does not match"),
        (lambda d: d.update(forms="baseline"), "forms"),
    ],
)
def test_codes_and_types_are_checked(db, change, message):
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(ProtocolFileError, match=message):
        protocol_load(text=yaml.safe_dump(data, allow_unicode=True), source_name="bad.yaml")


def test_a_site_code_of_another_study_is_refused(study):
    data = yaml.safe_load((settings.PROTOCOL_DIR / "NCT06172179.yaml").read_text(encoding="utf-8"))
    data["sites"][0]["code"] = "07"
    with pytest.raises(ProtocolFileError, match="another study"):
        protocol_load(text=yaml.safe_dump(data, allow_unicode=True), source_name="clash.yaml")
    assert not Study.objects.filter(code="NCT06172179").exists()
