"""A data manager, in Chinese, gives a case's second slot to another reader, then reopens the case once it is
final; the board and the case page drawn on a desk and on a phone in both languages.

Screenshots for a look by eye (in /tmp): adjudication_reassigned_zh.png, adjudication_reopened_zh.png, and
adjudication_{board,case}_{en,zh}_{1280,390}.png, adjudication_new_{en,zh}_390.png.
"""

import datetime
import re

import pytest

from followup.models import CaseAssignment, CaseStatus
from followup.services.assignment import case_readers_assign
from followup.services.cases import case_open_manual, evidence_withdraw
from followup.services.verdicts import verdict_submit

from ..browser import BROWSER_MARKS, SHOTS
from ..factories import PASSWORD
from .adjudication_page_helpers import MANUAL, NO

pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]

YES = {
    "fracture": True,
    "levels": ["T8"],
    "acute_signal": True,
    "genant_grade": 1,
    "event_date": datetime.date(2026, 6, 1),
    "confidence": "moderate",
}


def reader(case, slot: str):
    return CaseAssignment.objects.get(case=case, slot=slot, active=True).reader


def board_of_every_kind(cases, readers):
    """L3 read once by its first reader (adj_a; adj_b second), T10 disputed, T8 final with a fracture, L4
    opened by hand then withdrawn (cancelled)."""
    l3, t10, t8 = (next(c for c in cases if c.level == level) for level in ("L3", "T10", "T8"))
    for case in (l3, t10, t8):
        case_readers_assign(case=case)
    verdict_submit(
        actor=reader(l3, "first"), case=l3, username=reader(l3, "first").username, password=PASSWORD, **NO
    )
    verdict_submit(
        actor=reader(t10, "first"),
        case=t10,
        username=reader(t10, "first").username,
        password=PASSWORD,
        **YES | {"levels": ["T10"]},
    )
    verdict_submit(
        actor=reader(t10, "second"),
        case=t10,
        username=reader(t10, "second").username,
        password=PASSWORD,
        **NO,
    )
    for slot in ("first", "second"):
        verdict_submit(
            actor=reader(t8, slot), case=t8, username=reader(t8, slot).username, password=PASSWORD, **YES
        )
    manual = case_open_manual(actor=readers["dm"], participant=l3.participant, **MANUAL)
    evidence_withdraw(
        actor=readers["dm"], evidence=manual.evidence.get(), reason="Entered for the wrong patient"
    )
    assert [reader(l3, slot).username for slot in ("first", "second")] == ["adj_a", "adj_b"]
    return l3


def test_a_data_manager_reassigns_a_slot_and_reopens_a_case_in_chinese(
    transactional_db, live_server, cases, readers, page
):
    from playwright.sync_api import expect

    l3 = board_of_every_kind(cases, readers)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    path = f"/adjudication/cases/{l3.pk}/"
    page.goto(f"{live_server.url}/login/?next={path}")
    page.fill("#id_username", "dm")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("h1 [data-role=status]")).to_have_text("待裁定")

    # when the second slot goes to adj_c, with a reason
    page.get_by_text("更换阅片人").click()
    expect(page.locator("#id_reassign-slot option")).to_have_text(["第二阅片人"])  # the first has read it
    page.select_option("#id_reassign-reader", value=str(readers["adj_c"].pk))
    page.fill("#id_reassign-reason", "Adj B 休假")
    page.get_by_role("button", name="重新分配").click()
    expect(page.locator(".alert-success")).to_have_text("第二阅片人：现由 Test Adj_C 阅片。")  # noqa: RUF001
    readers_now = page.locator("tr[data-active='1'] [data-role=reader]")
    expect(readers_now).to_have_text(["Test Adj_A", "Test Adj_C"])
    page.screenshot(path=str(SHOTS / "adjudication_reassigned_zh.png"), full_page=True)

    # then, once the new reader agrees, the case is final; the data manager reopens it
    verdict_submit(
        actor=readers["adj_c"], case=l3, username=readers["adj_c"].username, password=PASSWORD, **NO
    )
    page.reload()
    expect(page.locator("h1 [data-role=status]")).to_have_text("已裁定")
    expect(page.locator(".case-result [data-role=result]")).to_have_text("无新发骨折")
    page.get_by_text("重新开启裁定").click()
    page.fill("#id_reopen-reason", "新的 CT 显示 L3 楔形变")
    page.get_by_role("button", name="重新开启", exact=True).click()
    expect(page.locator(".alert-success")).to_have_text("病例已重新进入裁定：第 2 轮。")  # noqa: RUF001
    expect(page.locator("[data-role=round]")).to_have_text("2")
    l3.refresh_from_db()
    assert (l3.status, l3.round) == (CaseStatus.OPEN, 2)
    page.screenshot(path=str(SHOTS / "adjudication_reopened_zh.png"), full_page=True)

    # the board and the case page on a desk and on a phone, in both languages
    for language, cookie in (("zh", "zh-hans"), ("en", "en")):
        page.context.add_cookies([{"name": "django_language", "value": cookie, "url": live_server.url}])
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
            page.goto(f"{live_server.url}/adjudication/cases/")
            expect(page.locator("tr[data-view=manage]")).to_have_count(4)
            page.screenshot(path=str(SHOTS / f"adjudication_board_{language}_{width}.png"), full_page=True)
            page.goto(f"{live_server.url}{path}")
            page.screenshot(path=str(SHOTS / f"adjudication_case_{language}_{width}.png"), full_page=True)
        page.goto(f"{live_server.url}/adjudication/cases/new/")
        page.screenshot(path=str(SHOTS / f"adjudication_new_{language}_390.png"), full_page=True)
