"""The screening form in a real browser: live verdict, save, enroll, and the page in both languages.

Drives Debian's /usr/bin/chromium through Playwright against pytest-django's live server; no browser is
ever downloaded. Screenshots go to /tmp/screening.png and /tmp/screening_zh.png for a look by eye.
"""

import re

from trial.clock import site_today
from trial.models import Participant, Screening

from ..browser import BROWSER_MARKS, SHOTS, choose
from ..factories import PASSWORD

pytestmark = BROWSER_MARKS


def answer(page, code: str, value: str) -> None:
    index = {"yes": 0, "no": 1, "unknown": 2}[value]
    choose(page, f"id_answer_{code}_{index}")


def fill_patient(page) -> None:
    page.fill("#id_age", "72")
    choose(page, "id_sex_0")  # female
    choose(page, "id_fracture_levels_11")  # T12
    choose(page, "id_fracture_levels_12")  # L1


def test_screen_enroll_and_both_languages(transactional_db, live_server, coordinator, site, page):
    from playwright.sync_api import expect

    verdict = page.locator("#verdict")

    # given a coordinator who logs in
    page.goto(f"{live_server.url}/login/?next=/screenings/new/")
    page.fill("#id_username", coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/screenings/new/$"))
    assert page.locator("#id_site").input_value() == site.code  # the only site is chosen already

    # when the patient data is entered, the computed criterion is decided but the questions are open
    fill_patient(page)
    expect(verdict).to_have_attribute("data-outcome", "incomplete")
    expect(page.locator("[data-code=INC3]")).to_have_attribute("data-state", "pass")
    expect(verdict.locator("[data-role=missing]")).to_contain_text("INC1")

    # an exclusion answered yes makes the patient ineligible, with the failing criterion marked
    answer(page, "INC1", "yes")
    answer(page, "INC2", "yes")
    answer(page, "EXC1", "no")
    answer(page, "EXC2", "yes")
    expect(verdict).to_have_attribute("data-outcome", "ineligible")
    expect(verdict.locator("[data-role=outcome]")).to_have_text("Ineligible")
    expect(verdict.locator("[data-role=failed]")).to_contain_text("EXC2")
    expect(page.locator("[data-code=EXC2]")).to_have_attribute("data-state", "fail")

    # changing it to no and answering the last one makes the patient eligible
    answer(page, "EXC2", "no")
    answer(page, "EXC3", "no")
    expect(verdict).to_have_attribute("data-outcome", "eligible")
    expect(verdict.locator("[data-role=outcome]")).to_have_text("Eligible")
    expect(page.locator("[data-code=EXC2]")).to_have_attribute("data-state", "pass")
    assert Screening.objects.count() == 0  # the live verdict saves nothing
    page.screenshot(path=SHOTS / "screening.png", full_page=True)

    # then saving shows the detail page with the server's verdict
    page.get_by_role("button", name="Save screening").click()
    page.wait_for_url(re.compile(r"/screenings/\d+/$"))
    expect(page.locator("h1 .badge")).to_have_text("Eligible")
    screening = Screening.objects.get()
    assert screening.outcome == "eligible" and screening.fracture_levels == ["T12", "L1"]

    # and enrolling it hands out the site's first study ID
    today = site_today(site).isoformat()
    page.fill("#id_consent_date", today)
    page.fill("#id_enrollment_date", today)
    page.fill("#id_full_name", "Synthetic Person")
    page.fill("#id_hospital_record_number", "H-0001")
    page.screenshot(path=SHOTS / "screening_detail.png", full_page=True)
    page.get_by_role("button", name="Enroll participant").click()
    page.wait_for_url(re.compile(r"/participants/07-0001/$"))  # the new participant's own page
    expect(page.locator(".alert-success")).to_contain_text("07-0001")
    expect(page.locator("h1")).to_contain_text("07-0001")
    assert Participant.objects.get().study_id == "07-0001"
    page.screenshot(path=SHOTS / "participants.png", full_page=True)

    # the language switch turns the pages to Simplified Chinese, protocol texts included
    page.goto(f"{live_server.url}/screenings/new/")
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_url(re.compile(r"/screenings/new/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("新建筛选")
    fill_patient(page)
    answer(page, "INC1", "yes")
    answer(page, "EXC1", "yes")
    expect(verdict).to_have_attribute("data-outcome", "ineligible")
    expect(verdict.locator("[data-role=outcome]")).to_have_text("不符合条件")
    expect(verdict.locator("[data-role=failed]")).to_contain_text("既往有严重脊柱侧弯")
    page.screenshot(path=SHOTS / "screening_zh.png", full_page=True)

    # on a phone-sized screen the verdict stays in view at the bottom while the form scrolls
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("window.scrollTo(0, 0)")
    expect(verdict).to_be_in_viewport()
    page.screenshot(path=SHOTS / "screening_zh_mobile.png")
