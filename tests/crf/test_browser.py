"""The procedure form in a real browser: two levels (one added with the button), a soft warning that opens a
query, completion, verification by the monitor and the investigator's e-signature; the page in Chinese.

Drives Debian's /usr/bin/chromium through Playwright against pytest-django's live server; no browser is ever
downloaded. Screenshots go to /tmp/crf_form.png and /tmp/crf_form_zh.png for a look by eye.
"""

import re

import pytest

from crf.models import DataQuery, FormRecord, Signature

from ..browser import BROWSER_MARKS, SHOTS, choose
from ..factories import PASSWORD

# The participant's dates and the procedure date typed below are judged against the site's today: the
# server runs in this process, so the clock is stopped at FROZEN_AT (tests/conftest.py) for it too.
# Cookies keep working: Django sends Max-Age, which the browser counts from its own clock.
pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]


def log_in(page, live_server, user, path: str) -> None:
    page.goto(f"{live_server.url}/login/?next={path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login/"))


def fill_level(page, index: int, *, level: str, approach: int, cement: str) -> None:
    page.select_option(f"#id_levels-{index}-level", level)
    choose(page, f"id_levels-{index}-approach_{approach}")
    page.fill(f"#id_levels-{index}-cement_volume", cement)
    choose(page, f"id_levels-{index}-balloon_0")  # yes
    choose(page, f"id_levels-{index}-leakage_1")  # no


def test_procedure_from_entry_to_signature(transactional_db, live_server, staff, participant, page):
    from playwright.sync_api import expect

    staff["investigator"].first_name, staff["investigator"].last_name = "Wei", "Li"
    staff["investigator"].save(update_fields=["first_name", "last_name"])
    path = f"/participants/{participant.study_id}/forms/procedure/"
    status = page.locator("h1 [data-role=status]")

    # given a coordinator on the empty procedure form: one blank level row, the others gave way to the button
    log_in(page, live_server, staff["coordinator"], path)
    expect(status).to_have_text("Not started")
    rows = page.locator("[data-group=levels] [data-rows] > [data-row]")
    expect(rows).to_have_count(1)

    # when the procedure is entered; the balloon question shows only for kyphoplasty
    page.fill("#id_procedure_date", "2026-01-08")
    balloon = page.locator("#id_levels-0-balloon_0")
    expect(balloon).to_be_hidden()
    choose(page, "id_technique_1")  # PKP
    expect(balloon).to_be_visible()
    choose(page, "id_anaesthesia_0")
    page.fill("#id_operator", "Dr Demo")
    choose(page, "id_cement_type_0")
    page.fill("#id_operative_time", "38")
    choose(page, "id_intraop_complications_0")  # none
    fill_level(page, 0, level="L1", approach=1, cement="4.5")

    # a second level is added with the button; leakage questions follow the leakage answer
    page.get_by_role("button", name="Add a row").click()
    expect(rows).to_have_count(2)
    second = rows.nth(1)
    index = second.get_attribute("data-row")
    expect(second.locator("[data-row-number]")).to_have_text("2")
    choose(page, f"id_levels-{index}-leakage_0")  # yes
    leakage_type = page.locator(f"#id_levels-{index}-leakage_type_0")
    expect(leakage_type).to_be_visible()
    choose(page, f"id_levels-{index}-leakage_type_0")
    fill_level(page, int(index), level="T12", approach=0, cement="12")  # leakage back to no
    expect(leakage_type).to_be_hidden()  # and its ticked type is not sent
    page.get_by_role("button", name="Save", exact=True).click()

    # then the form is saved with both levels, and the 12 mL level shows the warning and the query it opened
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(page.locator(".alert-warning").first).to_contain_text("1 warning: it opened a data query")
    record = FormRecord.objects.get()
    assert [row["level"] for row in record.data["levels"]] == ["L1", "T12"]
    assert "leakage_type" not in record.data["levels"][1]
    query = DataQuery.objects.get()
    assert (query.auto, query.field_path, query.status) == (True, "levels[T12].cement_volume", "open")
    field = page.locator("#f-levels-T12-cement_volume")
    expect(field.locator(".crf-warning")).to_contain_text("12.0 mL is outside the expected 1 to 10")
    expect(field.locator(f"#q-{query.pk}")).to_contain_text("12.0 mL is outside the expected 1 to 10")
    expect(status).to_have_text("Draft")
    page.screenshot(path=SHOTS / "crf_form.png", full_page=True)

    # and the coordinator completes it
    page.get_by_role("button", name="Mark complete").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(status).to_have_text("Complete")

    # the monitor verifies it
    log_out(page)
    log_in(page, live_server, staff["monitor"], path)
    expect(page.locator("#crf-entry")).to_have_count(0)  # read-only for monitors
    page.screenshot(path=SHOTS / "crf_form_monitor.png", full_page=True)
    page.get_by_role("button", name="Verify (source data verified)").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(status).to_have_text("Verified")

    # the investigator signs with the password and the meaning, under the printed name
    log_out(page)
    log_in(page, live_server, staff["investigator"], path)
    expect(page.locator("[data-role=printed-name]")).to_have_text("Wei Li")
    choose(page, "id_sign-meaning_0")  # approval
    page.fill("#id_sign-username", staff["investigator"].username)  # the session's first signing
    page.fill("#id_sign-password", PASSWORD)
    page.get_by_role("button", name="Sign the form").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(status).to_have_text("Signed")
    signature_row = page.locator(".crf-signature")
    expect(signature_row).to_have_attribute("data-valid", "true")
    expect(signature_row).to_contain_text("Wei Li")
    expect(signature_row).to_contain_text("I approve the data in this form")
    assert FormRecord.objects.get().status == "signed"
    signature = Signature.objects.get()
    assert (signature.printed_name, signature.meaning, signature.invalidated_at) == (
        "Wei Li",
        "approval",
        None,
    )

    page.goto(f"{live_server.url}/queries/")
    listed = page.locator(f"[data-query='{query.pk}']")
    expect(listed).to_contain_text("Level T12 \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} Cement volume")
    page.screenshot(path=SHOTS / "crf_queries.png", full_page=True)
    page.goto(f"{live_server.url}/participants/{participant.study_id}/forms/")
    expect(page.locator(".crf-status-signed")).to_have_count(1)
    page.screenshot(path=SHOTS / "crf_grid.png", full_page=True)

    # the same page in Chinese
    log_out(page)
    log_in(page, live_server, staff["coordinator"], path)
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("手术记录")
    expect(status).to_have_text("已签名")
    page.screenshot(path=SHOTS / "crf_form_zh.png", full_page=True)

    # on a phone-sized screen the form still fits its width
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SHOTS / "crf_form_zh_mobile.png")
