"""Asking for an export (reports.services.export_request): the options checked against the params contract
(reports/exports/formats.py), each bad one a 400 naming its field; only study-wide PIs and data managers; a
salt drawn only for a de-identified export, kept with the job."""

import re

import pytest

from reports.exports.formats import BOM_FORMATS, FORMATS, TABULAR
from reports.models import Job, JobKind, JobStatus
from reports.services import export_request
from trial.errors import Forbidden, InvalidInput

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_export")]


def _ask(study, actor, **options):
    return export_request(study=study, actor=actor, **{"format": "csv", "language": "en", **options})


@pytest.mark.parametrize("format", list(FORMATS))
def test_every_format_is_asked_for_with_the_contracts_keys(people, study, format):
    job = _ask(study, people["data_manager"], format=format, language="zh-hans")
    assert (job.kind, job.status, job.trigger, job.requested_by) == (
        JobKind.EXPORT,
        JobStatus.QUEUED,
        "on_demand",
        people["data_manager"],
    )
    # REDCap and ODM have their own layout: no dataset is claimed for them.
    assert job.params == {
        "format": format,
        "dataset": "analysis" if format in TABULAR else None,
        "deidentify": False,
        "bom": False,
        "language": "zh-hans",
    }


def test_the_options_are_kept_as_asked(people, study):
    job = _ask(study, people["pi"], format="csv-labels", dataset="long", bom=True, trigger="command")
    assert job.params == {
        "format": "csv-labels",
        "dataset": "long",
        "deidentify": False,
        "bom": True,
        "language": "en",
    }
    assert job.trigger == "command"


def test_a_salt_is_drawn_for_a_deidentified_export_only_and_anew_each_time(people, study):
    first = _ask(study, people["pi"], deidentify=True)
    second = _ask(study, people["pi"], deidentify=True)
    plain = _ask(study, people["pi"])
    assert re.fullmatch(r"[0-9a-f]{32}", first.params["salt"])
    assert first.params["salt"] != second.params["salt"]  # hashes of one export link to no other's
    assert first.params["deidentify"] is True
    assert "salt" not in plain.params


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"format": "pdf"}, "format", "Unknown format: pdf."),
        ({"format": ""}, "format", "Unknown format: ."),
        ({"dataset": "wide"}, "dataset", "Unknown dataset: wide."),
        ({"format": "odm", "dataset": "long"}, "dataset", "has its own layout"),
        ({"format": "redcap", "dataset": "long"}, "dataset", "has its own layout"),
        ({"format": "xlsx", "bom": True}, "bom", "applies to CSV and REDCap files only"),
        ({"format": "odm", "bom": True}, "bom", "applies to CSV and REDCap files only"),
        ({"bom": "yes"}, "bom", "Give true or false."),
        ({"deidentify": 1}, "deidentify", "Give true or false."),
        ({"language": "fr"}, "language", "Unknown language: fr."),
    ],
)
def test_a_bad_option_is_a_400_naming_its_field(people, study, options, field, message):
    with pytest.raises(InvalidInput) as refused:
        _ask(study, people["pi"], **options)
    assert list(refused.value.field_errors) == [field]
    assert message in refused.value.field_errors[field][0]
    assert not Job.objects.exists()


def test_every_bad_option_is_named_at_once(people, study):
    with pytest.raises(InvalidInput) as refused:
        _ask(study, people["pi"], format="sas", dataset="wide", deidentify="no", language="de")
    assert set(refused.value.field_errors) == {"format", "dataset", "deidentify", "language"}


@pytest.mark.parametrize("format", sorted(set(FORMATS) - set(BOM_FORMATS)))
def test_the_byte_order_mark_is_refused_where_it_means_nothing(people, study, format):
    with pytest.raises(InvalidInput) as refused:
        _ask(study, people["pi"], format=format, bom=True)
    assert set(refused.value.field_errors) == {"bom"}
    # Asked for without it, the same format is fine.
    assert _ask(study, people["pi"], format=format, bom=False).params["bom"] is False


@pytest.mark.parametrize("who", ["site_pi", "coordinator", "monitor", "adjudicator"])
def test_only_study_wide_pis_and_data_managers_may_ask(people, study, who):
    with pytest.raises(Forbidden):
        _ask(study, people[who])
    assert not Job.objects.exists()


def test_the_schedule_or_the_command_line_asks_without_a_person(study):
    assert _ask(study, None, format="sav", trigger="command").requested_by is None
