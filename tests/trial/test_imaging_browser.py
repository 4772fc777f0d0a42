"""The screening page's imaging exams and checks in a real browser, in English and Simplified Chinese
(screenshots in /tmp: imaging-en.png, imaging-zh-hans.png)."""

import datetime
import re

from trial.services import imaging_exams_register, screening_create

from ..browser import BROWSER_MARKS, SHOTS
from ..conftest import ELIGIBLE_ANSWERS
from ..factories import PASSWORD
from .imaging_data import dicom_file, load_imaging_study

pytestmark = BROWSER_MARKS


def test_the_exams_and_checks_show_in_both_languages(transactional_db, live_server, coordinator, site, page,
                                                     tmp_path):  # fmt: skip
    from playwright.sync_api import expect

    case = screening_create(
        actor=coordinator,
        study=load_imaging_study(),
        site=site,
        data={"screening_date": datetime.date(2026, 1, 5), "age": 72, "sex": "female",
              "fracture_levels": ["L1"], "answers": ELIGIBLE_ANSWERS},
    )  # fmt: skip
    day = datetime.date(2026, 1, 1)
    paths = [
        dicom_file(tmp_path, "ct.dcm", day=day),
        dicom_file(tmp_path, "mr.dcm", modality="MR", day=day + datetime.timedelta(days=15)),
    ]
    imaging_exams_register(actor=coordinator, screening=case, paths=paths)

    page.goto(f"{live_server.url}/login/?next=/screenings/{case.pk}/")
    page.fill("#id_username", coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(rf"/screenings/{case.pk}/$"))
    section = page.locator("#imaging")
    expect(section.locator("[data-role=imaging-exams] tbody tr")).to_have_count(2)
    expect(section.locator("[data-check=interval_too_long]")).to_contain_text("15 days apart")
    expect(page.locator("h1 .badge")).to_have_text("Ineligible")
    section.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "imaging-en.png", full_page=True)

    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(section.locator("[data-role=imaging-exams] tbody tr")).to_have_count(2)
    expect(section.locator("[data-check=interval_too_long]")).to_be_visible()
    page.screenshot(path=SHOTS / "imaging-zh-hans.png", full_page=True)
