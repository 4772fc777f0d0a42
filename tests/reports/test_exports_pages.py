"""The exports page: every format with its options, explained, in English and Chinese; asking for an export
(PRG to the job's page); bad input redrawn with the message beside the field; who may; the study's export jobs
in a fixed number of queries; the job's page and the download from the page (logged); never the salt."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.exports.formats import FORMATS
from reports.jobs import job_execute
from reports.models import Download, Job
from reports.services import export_request, interim_report_request

from .test_jobs_pages import page

pytestmark = [pytest.mark.django_db, pytest.mark.frozen, pytest.mark.usefixtures("fake_export")]

URL = "/reports/exports/"

TEXTS = {
    "en": {
        "heading": "<h1>Exports",
        "button": "Export",
        "explained": [
            "Comma-separated files with the stored codes",
            "SPSS files with variable labels and value labels.",
            "CDISC ODM XML for sponsors and registries",
            "One row per participant",
            "Study IDs replaced by codes drawn for this export alone",
            "Lets Excel open a CSV file as UTF-8",
            "Language of the labels",
        ],
    },
    "zh-hans": {
        "heading": "<h1>导出",
        "button": "导出",
        "explained": [
            "逗号分隔文件，保存原始编码",  # noqa: RUF001
            "SPSS 文件，带变量标签和值标签。",  # noqa: RUF001
            "CDISC ODM XML，供申办方和登记库使用",  # noqa: RUF001
            "每名受试者一行",
            "研究编号替换为本次导出专用的代码",
            "让 Excel 以 UTF-8 打开 CSV 文件",
            "标签语言",
        ],
    },
}


def _export(study, actor, run=True, **options):
    job = export_request(study=study, actor=actor, **{"format": "csv", "language": "en", **options})
    if run:
        job_execute(job.pk)
    return Job.objects.get(pk=job.pk)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_offers_every_format_with_its_options_explained(people, language):
    html = page(people["data_manager"], language).get(URL).content.decode()
    texts = TEXTS[language]
    assert texts["heading"] in html and f">{texts['button']}</button>" in html
    for value in FORMATS:
        assert f'value="{value}"' in html
    assert len(re.findall(r'name="format"', html)) == len(FORMATS)
    assert len(re.findall(r'name="dataset"', html)) == 2
    assert 'name="deidentify"' in html and 'name="bom"' in html and 'name="language"' in html
    for line in texts["explained"]:
        assert line in html
    # Every choice says what it is in a line read out after its name.
    assert html.count('aria-describedby="id_format_') == len(FORMATS)
    assert f'<option value="{language}" selected>' in html  # the labels in the reader's language
    assert 'aria-current="page">' + ("Exports" if language == "en" else "导出") in html  # the tab
    assert "/static/js/exports." in html and "<script>" not in html


def test_a_data_manager_asks_for_an_export_from_the_page(people):
    answer = page(people["data_manager"]).post(
        URL,
        {"format": "csv-labels", "dataset": "long", "deidentify": "on", "bom": "on", "language": "zh-hans"},
    )
    job = Job.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/reports/jobs/{job.pk}/"
    assert {key: value for key, value in job.params.items() if key != "salt"} == {
        "format": "csv-labels",
        "dataset": "long",
        "deidentify": True,
        "bom": True,
        "language": "zh-hans",
    }
    assert (job.kind, job.requested_by) == ("export", people["data_manager"])


def test_options_the_page_disabled_are_left_out_and_mean_the_defaults(people):
    # exports.js disables the dataset and the BOM for ODM: the browser sends neither.
    page(people["pi"]).post(URL, {"format": "odm", "language": "en"})
    assert Job.objects.get().params == {
        "format": "odm",
        "dataset": None,
        "deidentify": False,
        "bom": False,
        "language": "en",
    }


@pytest.mark.parametrize(
    ("language", "data", "message"),
    [
        ("en", {"language": "en"}, "This field is required."),
        ("en", {"format": "sas", "language": "en"}, "Select a valid choice."),
        # Without JavaScript every option stays open: the service refuses the one that does not apply.
        ("en", {"format": "xlsx", "bom": "on", "language": "en"}, "applies to CSV and REDCap files only"),
        ("en", {"format": "odm", "dataset": "long", "language": "en"}, "has its own layout"),
        ("zh-hans", {"format": "odm", "dataset": "long", "language": "en"}, "有自己的结构"),
        ("zh-hans", {"format": "sav", "bom": "on", "language": "en"}, "仅适用于 CSV 和 REDCap 文件"),
    ],
)
def test_bad_input_is_a_400_page_with_the_message_beside_the_field(people, language, data, message):
    answer = page(people["pi"], language).post(URL, data)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert message in html and 'class="errorlist' in html
    assert "has-error" in html
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("pi", 200),
        ("data_manager", 200),
        ("site_pi", 403),
        ("coordinator", 403),
        ("monitor", 403),
        ("adjudicator", 404),
    ],
)
def test_who_opens_the_exports_page(people, study, who, status):
    job = _export(study, people["pi"])
    client = page(people[who])
    assert client.get(URL).status_code == status
    assert client.post(URL, {"format": "csv", "language": "en"}).status_code == (
        302 if status == 200 else status
    )
    assert client.get(f"/reports/jobs/{job.pk}/").status_code == status
    assert client.get(f"/reports/jobs/{job.pk}/download/").status_code == status
    assert Job.objects.count() == (2 if status == 200 else 1)


def test_an_unknown_study_or_page_is_a_friendly_page(people):
    client = page(people["pi"])
    assert client.get(f"{URL}?study=NOPE").status_code == 404
    assert client.get(f"{URL}?page=zzz").status_code == 200


def test_the_list_shows_each_export_with_its_options_state_and_download(people, study):
    done = _export(study, people["pi"], format="xlsx", dataset="long", deidentify=True)
    queued = _export(study, people["data_manager"], run=False, format="redcap", bom=True, language="zh-hans")
    interim_report_request(study=study, actor=people["pi"], language="en")  # a report: on the other tab
    html = page(people["data_manager"]).get(URL).content.decode()
    rows = re.findall(r'<tr id="job-(\d+)">(.*?)</tr>', html, re.S)
    assert [int(pk) for pk, _ in rows] == [queued.pk, done.pk]
    queued_row, done_row = (row for _, row in rows)
    assert "REDCap import (CSV)" in queued_row and "BOM" in queued_row and "Queued" in queued_row
    assert "Simplified Chinese" in queued_row and "Download" not in queued_row
    assert "Excel (XLSX)" in done_row and "Long tables" in done_row and "de-identified" in done_row
    assert f'href="/reports/jobs/{done.pk}/download/"' in done_row and "Done" in done_row
    assert done.params["salt"] not in html
    # The reports tab lists the report only.
    reports = page(people["data_manager"]).get("/reports/").content.decode()
    assert len(re.findall(r'<tr id="job-', reports)) == 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_exports_page_runs_the_same_queries_for_two_jobs_or_twelve(people, study, make_user, language):
    client = page(people["data_manager"], language)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    _export(study, people["pi"])
    _export(study, people["data_manager"], run=False, deidentify=True)
    two = count()
    for n in range(10):
        asker = make_user(f"dm{n}", role="data_manager", study=study) if n % 2 else people["pi"]
        _export(study, asker, run=n % 3 == 0, format="dta")
    assert count() == two


def test_the_job_page_of_an_export_names_its_options_and_never_the_salt(people, study):
    job = _export(study, people["pi"], format="sav", deidentify=True, language="zh-hans")
    html = page(people["pi"]).get(f"/reports/jobs/{job.pk}/").content.decode()
    assert "SPSS (.sav)" in html and "Analysis dataset" in html and "de-identified" in html
    assert f'href="{URL}?study=NCT06379243"' in html  # the crumb leads back to the exports
    assert f'data-status-url="/api/v1/jobs/{job.pk}/"' in html and 'data-finished="1"' in html
    assert job.params["salt"] not in html
    html = page(people["pi"], "zh-hans").get(f"/reports/jobs/{job.pk}/").content.decode()
    assert "分析数据集" in html and "已去标识" in html


def test_a_download_from_the_page_is_logged(people, study):
    job = _export(study, people["pi"])
    for who in ("pi", "data_manager"):
        answer = page(people[who]).get(f"/reports/jobs/{job.pk}/download/")
        assert answer.status_code == 200
        assert b"".join(answer.streaming_content).startswith(b"export of NCT06379243")
    assert list(Download.objects.order_by("id").values_list("user__username", "via")) == [
        ("pi", "page"),
        ("dm", "page"),
    ]
    html = page(people["data_manager"]).get("/reports/downloads/").content.decode()
    assert html.count(job.file_name) == 2
    queued = _export(study, people["pi"], run=False)
    assert page(people["pi"]).get(f"/reports/jobs/{queued.pk}/download/").status_code == 409


def test_the_menus_reports_item_is_current_on_the_exports_page(people):
    html = page(people["pi"]).get(URL).content.decode()
    assert '<a href="/reports/" aria-current="page">' in html
