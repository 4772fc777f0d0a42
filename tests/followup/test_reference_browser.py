"""The reference standard read in a real browser (NCT07306858): a blinded reader opens a registered vertebra
from their queue, reads the protocol's question and the exam dates in English and in Chinese, and signs
"Chronic"; nothing on the page names the case's group, centre or any model.

Screenshots (to look at by eye): /work/shots26/a/ if it exists, else the temporary folder:
reference_queue_en.png, reference_review_en.png, reference_review_zh.png, reference_signed_en.png.
"""

import re
from pathlib import Path

import pytest

from followup.models import AdjudicationCase, CaseAssignment, Verdict

from ..browser import BROWSER_MARKS, SHOTS, choose
from ..crf.test_browser import log_in, log_out
from ..factories import PASSWORD
from .reference_helpers import (  # noqa: F401 -- fixtures
    fixture_ref_people,
    fixture_register_case,
    fixture_retro,
)

pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]
OUT = Path("/work/shots26/a") if Path("/work/shots26/a").is_dir() else SHOTS


def test_a_reader_reads_a_registered_vertebra_blind_in_both_languages(
    transactional_db, live_server, page, register_case, ref_people
):
    from playwright.sync_api import expect

    participant = register_case(levels=("T12", "L1"), group="chronic")
    case = AdjudicationCase.objects.get(participant=participant, level="L1")
    assignment = CaseAssignment.objects.get(case=case, slot="first")
    reader, code = assignment.reader, assignment.reading_code
    review = f"/adjudication/{code}/"

    log_in(page, live_server, reader, "/adjudication/")
    expect(page.locator(f"#reading-{code} [data-role=question]")).to_contain_text("Acute fracture?")
    page.screenshot(path=str(OUT / "reference_queue_en.png"), full_page=True)
    page.get_by_role("link", name=f"Case {code}").click()
    expect(page.locator("h1")).to_have_text(f"Case {code}: level L1")
    expect(page.locator("[data-role=question]")).to_contain_text(
        "Acute fracture? (marrow oedema: low T1, high STIR/T2 signal)"
    )
    expect(page.locator("[data-role=imaging-exams] tbody tr")).to_have_count(2)
    body = page.locator("body")
    for hidden in (participant.study_id, "CQ1", "Chronic fracture", "development", "probability"):
        expect(body).not_to_contain_text(hidden)
    expect(
        page.locator("input[name=genant_grade], input[name=levels], input[name=event_date]")
    ).to_have_count(0)
    page.screenshot(path=str(OUT / "reference_review_en.png"), full_page=True)

    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.goto(f"{live_server.url}{review}")
    expect(page.locator("[data-role=question]")).to_contain_text("急性骨折？")  # noqa: RUF001
    expect(page.locator("label[for=id_fracture_0]")).to_contain_text("急性")
    expect(page.locator("label[for=id_fracture_1]")).to_contain_text("慢性")
    expect(body).not_to_contain_text("慢性骨折")
    page.screenshot(path=str(OUT / "reference_review_zh.png"), full_page=True)

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}{review}")
    choose(page, "id_fracture_1")  # Chronic
    choose(page, "id_confidence_2")  # high
    page.fill("#id_username", reader.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=re.compile("Sign the verdict")).click()
    expect(page.locator(".verdict-mine [data-role=fracture]")).to_have_text("Chronic")
    page.screenshot(path=str(OUT / "reference_signed_en.png"), full_page=True)
    log_out(page)
    verdict = Verdict.objects.get(case=case)
    assert (verdict.fracture, verdict.genant_grade, verdict.levels) == (False, None, [])
