"""Blinded adjudication in a real browser: two readers disagree, the third decides, and the participant's
timeline shows the coordinator the final result in Chinese.

Screenshots: /tmp/adjudication_queue_en.png, /tmp/adjudication_review_en.png,
/tmp/adjudication_third_en.png, /tmp/adjudication_timeline_zh.png.
"""

import re

import pytest

from followup.models import CaseStatus
from followup.services.assignment import case_readers_assign
from trial.levels import LEVELS

from ..browser import BROWSER_MARKS, SHOTS, choose
from ..crf.test_browser import log_in, log_out
from ..factories import PASSWORD
from .reading_helpers import reading_code

pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]


def read(page, user, *, fracture: bool) -> None:
    """The reader signs a verdict on the case page they are on."""
    choose(page, "id_fracture_0" if fracture else "id_fracture_1")
    if fracture:
        choose(page, f"id_levels_{LEVELS.index('L3')}")
        choose(page, "id_acute_signal_0")
        choose(page, "id_genant_grade_1")  # 2 moderate
    choose(page, "id_confidence_2")  # high
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=re.compile("Sign the verdict|签署裁定")).click()


def test_two_readers_disagree_the_third_decides_and_the_timeline_shows_it_in_chinese(
    transactional_db, live_server, page, cases, readers, coordinator
):
    from playwright.sync_api import expect

    case = cases[0]  # L3 of a participant of site 07 (treated L1, T12)
    case_readers_assign(case=case)
    code = {name: reading_code(case, readers[name]) for name in ("adj_a", "adj_b")}

    log_in(page, live_server, readers["adj_a"], "/adjudication/")
    expect(page.locator("[data-bucket=awaiting_me] .count")).to_have_text("1")
    page.screenshot(path=str(SHOTS / "adjudication_queue_en.png"), full_page=True)
    page.get_by_role("link", name=f"Case {code['adj_a']}").click()
    expect(page.locator("h1")).to_have_text(f"Case {code['adj_a']}: level L3")
    expect(page.locator("body")).not_to_contain_text(case.participant.study_id)
    assert page.url.endswith(f"/adjudication/{code['adj_a']}/")  # by the reader's code, never the number
    page.screenshot(path=str(SHOTS / "adjudication_review_en.png"), full_page=True)
    read(page, readers["adj_a"], fracture=True)
    expect(page.locator(".verdict-mine [data-role=fracture]")).to_have_text("Yes")
    expect(page.locator(".verdict-mine")).to_contain_text("L3 (remote)")
    log_out(page)

    log_in(page, live_server, readers["adj_b"], f"/adjudication/{code['adj_b']}/")
    expect(page.locator("h1")).to_have_text(f"Case {code['adj_b']}: level L3")  # their own code
    expect(page.locator(".verdict")).to_have_count(0)  # blind to the first verdict
    read(page, readers["adj_b"], fracture=False)
    expect(page.locator(".verdict")).to_have_count(2)  # both in: each sees the other
    log_out(page)
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPUTED

    log_in(page, live_server, readers["adj_c"], "/adjudication/")
    page.get_by_role("link", name=f"Case {reading_code(case, readers['adj_c'])}").click()
    expect(page.locator(".verdict")).to_have_count(2)  # the third reader sees both
    page.screenshot(path=str(SHOTS / "adjudication_third_en.png"), full_page=True)
    read(page, readers["adj_c"], fracture=True)
    expect(page.locator(".badge-bucket-final")).to_be_visible()
    log_out(page)
    case.refresh_from_db()
    assert (case.status, case.final_fracture, case.final_levels) == (CaseStatus.FINAL, True, ["L3"])

    log_in(page, live_server, coordinator, f"/participants/{case.participant.study_id}/timeline/")
    page.get_by_role("button", name="简体中文").click()
    result = page.locator(f"#case-{case.pk} [data-role=result]")
    expect(result).to_contain_text("确认新发骨折")
    expect(result).to_contain_text("L3")
    result.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "adjudication_timeline_zh.png"), full_page=True)
