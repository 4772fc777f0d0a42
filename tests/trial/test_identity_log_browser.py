"""The log of reads of identifying data in a real browser: a coordinator's reads, then the data manager's
page in English and Chinese. Screenshots: /tmp/identity_log_en.png and /tmp/identity_log_zh.png."""

import re

from trial.models import Role

from ..browser import BROWSER_MARKS, SHOTS
from ..factories import PASSWORD

pytestmark = BROWSER_MARKS


def log_in(page, live_server, user, path: str) -> None:
    page.goto(f"{live_server.url}/login/?next={path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_the_data_manager_reads_the_log_in_both_languages(
    transactional_db, live_server, page, coordinator, make_user, study, make_participant
):
    from playwright.sync_api import expect

    participants = [make_participant() for _ in range(3)]
    coordinator.first_name, coordinator.last_name = "Fang", "Wang"
    coordinator.save(update_fields=["first_name", "last_name"])
    log_in(page, live_server, coordinator, "/participants/")
    expect(page.locator("table")).to_contain_text("Synthetic Person")
    page.goto(f"{live_server.url}/participants/{participants[0].study_id}/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login/"))

    data_manager = make_user("dm", role=Role.DATA_MANAGER, study=study)
    log_in(page, live_server, data_manager, "/")
    page.get_by_role("link", name="Identity reads").click()
    rows = page.locator("[data-role=identity-log] tbody tr")
    expect(rows).to_have_count(4)  # three names in the list, then one identity
    expect(rows.first).to_have_attribute("data-shown", "identity")
    expect(page.locator("body")).not_to_contain_text("Synthetic Person")
    page.screenshot(path=SHOTS / "identity_log_en.png", full_page=True)

    page.fill("#id_participant", participants[0].study_id)
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)

    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(rows).to_have_count(2)
    page.screenshot(path=SHOTS / "identity_log_zh.png", full_page=True)
