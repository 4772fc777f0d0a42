"""The follow-up MRI's exam linked in a real browser: the DICOM file uploaded on the participant's page, the
M12 form saved with no exam (a "scan missing" query), the exam picked on the form, the query closed and the
linked exam described; the page in English and Simplified Chinese (screenshots in /tmp: mri-exam-en.png,
mri-exam-zh-hans.png; and participant-exams-en.png, mri-exam-missing-en.png)."""

import datetime
import re

import pytest

from crf.models import DataQuery

from ..browser import BROWSER_MARKS, SHOTS
from ..factories import PASSWORD
from ..trial.imaging_data import dicom_file
from .mri_helpers import (  # noqa: F401 -- fixtures
    MRI,
    fixture_clients,
    fixture_participant,
    fixture_staff,
    fixture_treated,
    make_visit,
    mri_record,
    put_mri,
)

pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]  # today at site 07: 2026-10-01


def test_an_exam_uploaded_then_linked_on_the_form(transactional_db, live_server, staff, clients, participant,
                                                  treated, page, tmp_path):  # fmt: skip
    from playwright.sync_api import expect

    make_visit(participant, target=datetime.date(2026, 6, 10))  # its window holds the MRI of 2026-06-01
    assert put_mri(clients["coordinator"], participant, MRI).status_code == 200  # no exam: scan missing
    scan = DataQuery.objects.get(check_code="FOLLOWUP_MRI_SCAN_MISSING")
    person = f"/participants/{participant.study_id}/"
    form = f"{person}visits/M12/forms/followup_mri/"

    # given the coordinator on the participant's page, who uploads the MRI's DICOM file (a tall window: the
    # form's save bar, sticky at its foot, stays below the exam in the screenshots)
    page.set_viewport_size({"width": 1280, "height": 1350})
    page.goto(f"{live_server.url}/login/?next={person}")
    page.fill("#id_username", staff["coordinator"].username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(person) + "$"))
    imaging = page.locator("#imaging")
    expect(imaging.locator("[data-role=no-exams]")).to_be_visible()
    imaging.locator("input[type=file]").set_input_files(
        str(dicom_file(tmp_path, "IM0001", modality="MR", day=datetime.date(2026, 6, 1)))
    )
    imaging.get_by_role("button", name="Register exams").click()
    page.wait_for_url(re.compile(re.escape(person) + "#imaging$"))
    expect(page.locator(".messages, [role=status], .alert").first).to_contain_text(
        "1 imaging exam registered."
    )
    expect(imaging.locator("[data-role=imaging-exams] tbody tr")).to_have_count(1)
    imaging.screenshot(path=SHOTS / "participant-exams-en.png")

    # when the exam is picked on the M12 form, which says the scan is missing
    page.goto(f"{live_server.url}{form}")
    field = page.locator("#f-exam")
    expect(field.locator(".crf-warning")).to_contain_text("Scan missing")
    expect(page.locator("[data-role=visit-window]")).to_have_text("window 2026-05-11 to 2026-07-10")
    field.screenshot(path=SHOTS / "mri-exam-missing-en.png")
    page.select_option("#id_exam", label="MR of 2026-06-01, LSPINE, 1 series")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(re.escape(form) + "$"))

    # then the form links it, describes it, and the query is closed by the data
    linked = field.locator("[data-role=linked-exam]")
    expect(linked).to_contain_text("MR")
    expect(linked).to_contain_text("2026-06-01")
    expect(linked).to_contain_text("LSPINE")
    expect(field.locator(".crf-warning")).to_have_count(0)
    assert mri_record(participant).data["exam"] == int(linked.get_attribute("data-exam"))
    scan.refresh_from_db()
    assert (scan.status, scan.resolved_by_data) == ("closed", True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SHOTS / "mri-exam-en.png")

    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(field.locator("[data-role=linked-exam]")).to_contain_text("检查日期")
    expect(field).to_contain_text("DICOM影像检查")
    page.screenshot(path=SHOTS / "mri-exam-zh-hans.png")
