"""A list page refusing a bad filter, in a real browser and in both languages: the message above the filters,
nothing listed, status 400. Screenshots: /tmp/list_query_error_en.png and /tmp/list_query_error_zh.png."""

import re

from ..browser import BROWSER_MARKS, SHOTS
from ..factories import PASSWORD

pytestmark = BROWSER_MARKS


def test_the_screening_log_shows_a_bad_filter_in_both_languages(
    transactional_db, live_server, page, coordinator, make_participant
):
    from playwright.sync_api import expect

    make_participant()
    page.goto(f"{live_server.url}/login/?next=/screenings/")
    page.fill("#id_username", coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/screenings/$"))
    expect(page.locator("table tbody tr")).to_have_count(1)

    answer = page.goto(f"{live_server.url}/screenings/?date_from=2026-13-45&enrolled=yes")
    assert answer.status == 400
    errors = page.locator("#query-errors")
    expect(errors).to_contain_text("Enter a valid date.")
    expect(errors).to_contain_text("true or false.")
    expect(page.locator("table tbody tr td a")).to_have_count(0)
    page.screenshot(path=SHOTS / "list_query_error_en.png", full_page=True)

    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(errors).to_contain_text("输入一个有效的日期。")
    expect(errors).to_contain_text("起始日期")
    page.screenshot(path=SHOTS / "list_query_error_zh.png", full_page=True)

    # Reset lists everything again.
    page.locator("a.btn-quiet").first.click()
    expect(page.locator("#query-errors")).to_have_count(0)
