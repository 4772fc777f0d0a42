"""A data manager asks for an export on the exports page, watches it run (the job's page polls the API every
2 s; a real Celery worker runs the stand-in exports runner) and downloads it, in English and Chinese, in
Debian's chromium. The form offers only the options that apply to the chosen format (static/js/exports.js).
The download is logged (via the page).

Screenshots (to look at by eye) in SHOTS12 (/work/shots12 when it can be made, else the temporary directory):
exports_{en,zh}_{desktop,mobile}.png, exports_{en,zh}_invalid.png, exports_job_{running,done}_{en,zh}.png,
exports_{en,zh}_done_{desktop,mobile}.png.
"""

import os
import re
from pathlib import Path

import pytest

from reports.models import Download, Job

from ..browser import BROWSER_MARKS, SHOTS, choose
from .test_jobs_browser import _sign_in

pytestmark = BROWSER_MARKS

SHOTS12 = Path(os.environ.get("SHOTS12", "/work/shots12"))
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}

TEXTS = {
    "en": {"export": "Export", "running": "Running", "done": "Done", "download": "Download"},
    "zh-hans": {"export": "导出", "running": "运行中", "done": "已完成", "download": "下载"},
}
STEPS = {"en": "1 of 4", "zh-hans": "1 / 4"}
# The radios in the order of reports.exports.formats.FORMATS.
FORMAT_IDS = {"csv": 0, "csv-labels": 1, "xlsx": 2, "dta": 3, "sav": 4, "redcap": 5, "odm": 6}


def _shots() -> Path:
    try:
        SHOTS12.mkdir(parents=True, exist_ok=True)
        return SHOTS12
    except OSError:
        return SHOTS


def _shoot(page, name: str) -> None:
    page.screenshot(path=str(_shots() / name), full_page=True)


def _both_widths(page, name: str) -> None:
    for width, size in (("desktop", DESKTOP), ("mobile", MOBILE)):
        page.set_viewport_size(size)
        _shoot(page, f"{name}_{width}.png")
    page.set_viewport_size(DESKTOP)


def _format(page, value: str) -> None:
    choose(page, f"id_format_{FORMAT_IDS[value]}")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_data_manager_exports_watches_and_downloads(
    live_server, people, export_worker, gate, page, language
):
    texts, short = TEXTS[language], language[:2]
    _sign_in(page, live_server, people["data_manager"], language)
    page.goto(f"{live_server.url}/reports/exports/")
    _both_widths(page, f"exports_{short}")

    # The options follow the format: no dataset for REDCap or ODM, the BOM for CSV and REDCap only.
    def offered() -> tuple[bool, bool]:
        """Whether the dataset (a radio of its fieldset) and the BOM can be chosen."""
        return page.locator("#id_dataset_1").is_enabled(), page.locator("#id_bom").is_enabled()

    assert offered() == (True, True)  # no format chosen yet
    for format, expected in [
        ("odm", (False, False)),
        ("xlsx", (True, False)),
        ("redcap", (False, True)),
        ("dta", (True, False)),
        ("csv-labels", (True, True)),
    ]:
        _format(page, format)
        assert offered() == expected, format

    choose(page, "id_dataset_1")  # long tables
    choose(page, "id_deidentify")
    choose(page, "id_bom")
    page.get_by_role("button", name=texts["export"], exact=True).click()
    page.wait_for_url(re.compile(r".*/reports/jobs/\d+/$"))
    job = Job.objects.get()
    assert {key: value for key, value in job.params.items() if key != "salt"} == {
        "format": "csv-labels",
        "dataset": "long",
        "deidentify": True,
        "bom": True,
        "language": language,  # the page's language by default
    }

    card = page.locator("#job")
    status = card.locator("[data-role=status]")
    status.filter(has_text=texts["running"]).wait_for(timeout=30_000)  # the poll shows the worker's step
    card.locator("[data-role=count]").filter(has_text=STEPS[language]).wait_for()
    assert card.locator("[data-role=download]").is_hidden()
    assert job.params["salt"] not in page.content()
    _shoot(page, f"exports_job_running_{short}.png")

    (gate / f"job-{job.pk}").touch()
    status.filter(has_text=texts["done"]).wait_for(timeout=30_000)
    button = card.get_by_role("link", name=texts["download"])
    button.wait_for()
    _shoot(page, f"exports_job_done_{short}.png")
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == f"export-{job.pk}.txt"
    with open(download.path(), "rb") as saved:
        content = saved.read()
    assert content.startswith(b"export of NCT06379243") and b"('format', 'csv-labels')" in content
    assert list(Download.objects.values_list("job_id", "user__username", "via")) == [(job.pk, "dm", "page")]

    page.goto(f"{live_server.url}/reports/exports/")
    row = page.locator(f"tr#job-{job.pk}")
    assert row.get_by_role("link", name=texts["download"]).count() == 1
    assert page.locator("tbody tr").count() == 1
    _both_widths(page, f"exports_{short}_done")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_without_a_format_the_page_says_so_beside_it(live_server, people, page, language):
    _sign_in(page, live_server, people["pi"], language)
    page.goto(f"{live_server.url}/reports/exports/")
    page.get_by_role("button", name=TEXTS[language]["export"], exact=True).click()
    page.locator(".has-error .errorlist").first.wait_for()
    assert not Job.objects.exists()
    _shoot(page, f"exports_{language[:2]}_invalid.png")
