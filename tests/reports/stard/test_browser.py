"""A principal investigator asks for the accuracy report on the Reports page, a real Celery worker builds it,
and the page offers its download, in English and Chinese, in Debian's chromium.

Screenshots: /tmp/accuracy_reports_{en,zh}.png (the form), /tmp/accuracy_job_done_{en,zh}.png.
"""

import re

import pytest

from reports.models import Job

from ...browser import BROWSER_MARKS, SHOTS
from ..test_jobs_browser import _sign_in

pytestmark = BROWSER_MARKS

TEXTS = {
    "en": {"generate": "Generate", "download": "Download"},
    "zh-hans": {"generate": "生成", "download": "下载"},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_pi_asks_for_the_accuracy_report_and_downloads_it(
    live_server, world, staff, report_worker, page, language
):
    texts, short = TEXTS[language], language[:2]
    _sign_in(page, live_server, staff["pi"], language)
    page.goto(f"{live_server.url}/reports/?study=NCT07306858")
    form = page.locator("#accuracy-report")
    form.get_by_label(re.compile("Interval|区间")).select_option("clopper-pearson")
    page.screenshot(path=str(SHOTS / f"accuracy_reports_{short}.png"), full_page=True)
    form.get_by_role("button", name=texts["generate"], exact=True).click()
    page.wait_for_url(re.compile(r".*/reports/jobs/\d+/$"))
    job = Job.objects.get()
    assert job.params == {"language": language, "interval": "clopper-pearson", "format": "pdf"}
    link = page.get_by_role("link", name=texts["download"], exact=True)
    link.wait_for(state="visible", timeout=60_000)
    page.screenshot(path=str(SHOTS / f"accuracy_job_done_{short}.png"), full_page=True)
    with page.expect_download() as started:
        link.click()
    assert started.value.suggested_filename.endswith(f"_{language}.pdf")
