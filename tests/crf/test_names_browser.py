"""What a monitor reads in a real browser, in English and in Chinese: the form page with a warning and its
query thread, the query list and the visits worklist name things (no engine path, check or form code) and
the edit checks' messages are in the reader's language although an English reader's save raised them.

Drives Debian's /usr/bin/chromium through Playwright (tests/browser.py). Screenshots for a look by eye:
/tmp/names_form_<language>.png, /tmp/names_thread_<language>.png, /tmp/names_queries_<language>.png and
/tmp/names_visits_<language>.png.
"""

import re

import pytest
from django.utils import translation

from crf import services
from crf.models import DataQuery, FormRecord

from ..browser import BROWSER_MARKS, SHOTS, TIMEOUT_MS
from ..factories import PASSWORD
from .conftest import PROCEDURE

# The checks judge the procedure date against the consent and the site's today, and the visits' statuses
# depend on today: the clock is stopped at FROZEN_AT (tests/conftest.py), for the live server too.
pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]

SEP = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "
LEAKS = re.compile(r"levels\[|cement_volume|RANGE_[A-Z_]+|PROCEDURE_[A-Z_]+|followup_mri|\bodi\b|\bvas\b")
# What each reader should read: (browser locale, the declared check's message, the soft range's, a row's
# field, the names of what the 12-month visit collects).
READERS = {
    "en": (
        "en-US",
        "The procedure date is before the date of informed consent.",
        "12.0 mL is outside the expected 1 to 10: please confirm.",
        f"Level L1{SEP}Cement volume",
        "Follow-up spine MRI · Oswestry Disability Index",
    ),
    "zh-hans": (
        "zh-CN",
        "手术日期早于知情同意日期。",
        "12.0 mL 超出预期范围（1 至 10），请核实。",  # noqa: RUF001
        f"节段 L1{SEP}骨水泥注入量",
        "随访脊柱MRI · Oswestry 功能障碍指数",
    ),
}


@pytest.fixture
def warned(staff, participant):
    """A completed procedure whose save, by an English reader, raised a declared check and a soft range; and a
    monitor's question on T12's cement. Completing it schedules the follow-up visits."""
    data = PROCEDURE | {
        "procedure_date": "2026-01-05",  # the day before consent
        "levels": [PROCEDURE["levels"][0] | {"cement_volume": 12}, PROCEDURE["levels"][1]],
    }
    with translation.override("en"):
        services.crf_save(
            actor=staff["coordinator"],
            participant=participant,
            form_code="procedure",
            data=data,
            expected_version=None,
        )
        services.crf_complete(
            actor=staff["coordinator"], participant=participant, form_code="procedure", expected_version=1
        )
    services.query_raise(
        actor=staff["monitor"],
        record=FormRecord.objects.get(),
        field_path="levels[T12].cement_volume",
        text="The op note says 4 mL?",
    )
    return participant


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_monitor_reads_names_and_messages_in_their_language(
    transactional_db, live_server, staff, warned, page, language
):
    from playwright.sync_api import expect

    locale, check_text, range_text, row_field, collected = READERS[language]
    context = page.context.browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    reader = context.new_page()
    reader.set_default_timeout(TIMEOUT_MS)
    try:
        path = f"/participants/{warned.study_id}/forms/procedure/"
        reader.goto(f"{live_server.url}/login/?next={path}")
        reader.fill("#id_username", staff["monitor"].username)
        reader.fill("#id_password", PASSWORD)
        reader.locator("main form button[type=submit]").click()
        reader.wait_for_url(re.compile(re.escape(path) + "$"))
        expect(reader.locator("html")).to_have_attribute("lang", language)

        # the form page: the warnings and the threads in the reader's language, values named by row and field
        check = DataQuery.objects.get(check_code="PROCEDURE_BEFORE_CONSENT")
        soft_range = DataQuery.objects.get(check_code="RANGE_CEMENT_VOLUME")
        expect(reader.locator(f"#q-{check.pk} .crf-thread")).to_contain_text(check_text)
        expect(reader.locator(f"#q-{soft_range.pk} .crf-thread")).to_contain_text(range_text)
        expect(reader.locator(".crf-warnings")).to_contain_text(row_field)
        expect(reader.locator("#queries")).to_contain_text(row_field)
        text = reader.locator("main").inner_text()
        assert not LEAKS.search(text), LEAKS.search(text)
        reader.screenshot(path=SHOTS / f"names_form_{language}.png", full_page=True)
        reader.locator("#f-levels-L1-cement_volume").screenshot(path=SHOTS / f"names_thread_{language}.png")

        # the query list: the live ones by default, named, with the last message in the reader's language
        reader.goto(f"{live_server.url}/queries/")
        expect(reader.locator("table.crf-query-table tbody tr")).to_have_count(3)
        expect(reader.locator(f"tr[data-query='{check.pk}']")).to_contain_text(check_text)
        expect(reader.locator(f"tr[data-query='{soft_range.pk}']")).to_contain_text(row_field)
        text = reader.locator("main").inner_text()
        assert not LEAKS.search(text), LEAKS.search(text)
        reader.screenshot(path=SHOTS / f"names_queries_{language}.png", full_page=True)

        # the visits worklist: what each visit collects, by name
        reader.goto(f"{live_server.url}/visits/?status=all")
        expect(reader.locator("td[data-role=collects]").first).to_be_visible()
        expect(reader.locator("main")).to_contain_text(collected)
        text = reader.locator("main").inner_text()
        assert not LEAKS.search(text), LEAKS.search(text)
        reader.screenshot(path=SHOTS / f"names_visits_{language}.png", full_page=True)
    finally:
        context.close()
