"""A principal investigator generates the interim report from the page, watches its progress (the page polls
the API every 2 s; a real Celery worker builds it) and downloads it, in English and Chinese, in Debian's
chromium. The download is logged (via the page) and shown on the data manager's download log.

Screenshots: /tmp/reports_list_{en,zh}.png, /tmp/reports_list_done_{en,zh}.png,
/tmp/reports_job_running_{en,zh}.png, /tmp/reports_job_done_{en,zh}.png, /tmp/reports_downloads_{en,zh}.png.
"""

import re

import pytest
from django.test import Client

from reports.models import Download, Job

from ..browser import BROWSER_MARKS, SHOTS

pytestmark = BROWSER_MARKS

TEXTS = {
    "en": {
        "generate": "Generate",
        "running": "Running",
        "done": "Done",
        "download": "Download",
        "steps": "1 of 3",
    },
    "zh-hans": {
        "generate": "生成",
        "running": "运行中",
        "done": "已完成",
        "download": "下载",
        "steps": "1 / 3",
    },
}


def _sign_in(page, live_server, user, language):
    session = Client()
    session.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url},
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_pi_generates_watches_and_downloads_the_report(
    live_server, people, job_worker, gate, page, language
):
    texts, short = TEXTS[language], language[:2]
    _sign_in(page, live_server, people["pi"], language)
    page.goto(f"{live_server.url}/reports/")
    page.screenshot(path=str(SHOTS / f"reports_list_{short}.png"), full_page=True)
    page.get_by_role("button", name=texts["generate"], exact=True).click()
    page.wait_for_url(re.compile(r".*/reports/jobs/\d+/$"))
    job = Job.objects.get()
    assert job.params["language"] == language  # the page's language by default

    card = page.locator("#job")
    status = card.locator("[data-role=status]")
    status.filter(has_text=texts["running"]).wait_for(timeout=30_000)  # the poll shows the worker's step
    card.locator("[data-role=count]").filter(has_text=texts["steps"]).wait_for()
    assert card.locator("[data-role=step]").inner_text() == "first"
    assert card.locator("[data-role=download]").is_hidden()
    page.screenshot(path=str(SHOTS / f"reports_job_running_{short}.png"), full_page=True)

    (gate / f"job-{job.pk}").touch()
    status.filter(has_text=texts["done"]).wait_for(timeout=30_000)
    button = card.get_by_role("link", name=texts["download"])
    button.wait_for()
    page.screenshot(path=str(SHOTS / f"reports_job_done_{short}.png"), full_page=True)
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == f"report-{job.pk}.txt"
    with open(download.path(), "rb") as saved:
        assert saved.read() == f"report of NCT06379243 in {language}\n".encode()
    assert list(Download.objects.values_list("user__username", "via")) == [("pi", "page")]
    page.goto(f"{live_server.url}/reports/")
    assert page.locator("tbody tr").count() == 1
    page.screenshot(path=str(SHOTS / f"reports_list_done_{short}.png"), full_page=True)

    # The data manager reads the log.
    _sign_in(page, live_server, people["data_manager"], language)
    page.goto(f"{live_server.url}/reports/downloads/")
    assert page.locator("tbody tr").count() == 1
    page.screenshot(path=str(SHOTS / f"reports_downloads_{short}.png"), full_page=True)
