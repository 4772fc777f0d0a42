"""In a real browser: the Content-Security-Policy breaks no page (Chromium reports each refused script or
style on the console), and Swagger UI starts from its own script file."""

import re

from ..browser import BROWSER_MARKS
from ..factories import PASSWORD

pytestmark = BROWSER_MARKS


def csp_reports(page) -> list[str]:
    reports: list[str] = []

    def keep(message) -> None:
        if "Content Security Policy" in message.text:
            reports.append(message.text)

    page.on("console", keep)
    return reports


def test_pages_and_api_docs_run_under_the_policy(transactional_db, live_server, coordinator, page):
    from playwright.sync_api import expect

    reports = csp_reports(page)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height") > 0  # styled

    # The screening form's script draws the live verdict; refused, the panel would stay empty.
    page.goto(f"{live_server.url}/screenings/new/")
    expect(page.locator("#verdict")).to_have_attribute("data-outcome", "incomplete")

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert reports == []
