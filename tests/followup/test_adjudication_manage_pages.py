"""The data manager's steps on the adjudication pages: assign, reassign, reopen, withdraw findings entered by
hand, and open a case by hand, with their refusals shown on the page (errors beside the fields) and the other
roles refused."""

import datetime
import re

import pytest
from django.test import Client

from followup.models import AdjudicationCase, CaseAssignment, CaseStatus
from followup.services.cases import case_open_manual

from .adjudication_page_helpers import (  # noqa: F401 -- fixtures
    MANUAL,
    NEW,
    case_url,
    final,
    fixture_case,
    fixture_people,
    logged_in,
    text_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


# --- the data manager's steps ------------------------------------------------------------------------------


def active_readers(case) -> list[tuple[str, str]]:
    return list(
        CaseAssignment.objects.filter(case=case, active=True)
        .order_by("slot")
        .values_list("slot", "reader__username")
    )


def test_a_data_manager_reassigns_a_slot_and_a_refusal_redraws_the_page(case, people):
    dm = logged_in(people["dm"])
    url = case_url(case, "reassign")
    body = {
        "reassign-slot": "second",
        "reassign-reader": people["adj_c"].pk,
        "reassign-reason": "Adj B on leave",
    }
    refusals = [
        ({"reassign-reason": ""}, 400, "This field is required."),
        ({"reassign-reader": people["adj_07"].pk}, 400, "This adjudicator cannot read this case"),  # site 07
        ({"reassign-reader": people["coordinator"].pk}, 400, "This adjudicator cannot read this case"),
        ({"reassign-reader": 999999}, 400, "No such adjudicator."),
        ({"reassign-reader": "x"}, 400, "Enter a whole number."),
        (
            {"reassign-slot": "first"},
            400,
            "Select a valid choice.",
        ),  # the first reader has given their verdict
    ]
    for change, status, message in refusals:
        answer = dm.post(url, body | change)
        assert answer.status_code == status, change
        text = text_of(answer)
        assert message in text and 'id="reassign" open' in text, change
        assert active_readers(case) == [("first", "adj_a"), ("second", "adj_b")]
    for name, status in (("pi", 403), ("monitor", 403), ("coordinator", 403), ("adj_c", 404)):
        answer = logged_in(people[name]).post(url, body)
        assert answer.status_code == status, name
    assert "Only the data manager" in text_of(logged_in(people["pi"]).post(url, body))
    assert active_readers(case) == [("first", "adj_a"), ("second", "adj_b")]

    # A POST without the CSRF token is refused (the test client skips the check unless told).
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(people["dm"])
    assert forged.post(url, body).status_code == 403
    assert active_readers(case) == [("first", "adj_a"), ("second", "adj_b")]

    answer = dm.post(url, body)
    assert answer.status_code == 302 and answer.url == case_url(case) + "#readers"
    assert active_readers(case) == [("first", "adj_a"), ("second", "adj_c")]
    page = text_of(dm.get(answer.url))
    assert "Second reader: Test Adj_C now reads this case." in page
    assert re.findall(r'data-slot="second" data-active="(\d)"', page) == ["0", "1"]  # the trail kept


def test_a_data_manager_assigns_readers_and_a_case_that_cannot_be_read_says_why(cases, draft_cases, people):
    dm = logged_in(people["dm"])
    target = cases[1]
    assert "Assign the readers" in text_of(dm.get(case_url(target)))
    answer = dm.post(case_url(target, "assign"))
    assert answer.status_code == 302
    assert [slot for slot, _reader in active_readers(target)] == ["first", "second"]
    assert "Assign the readers" not in text_of(dm.get(case_url(target)))
    assert logged_in(people["pi"]).post(case_url(cases[2], "assign")).status_code == 403
    assert not CaseAssignment.objects.filter(case=cases[2]).exists()


def test_assigning_a_case_only_a_draft_supports_is_a_409_page(draft_cases, people):
    answer = logged_in(people["dm"]).post(case_url(draft_cases[0], "assign"))
    assert answer.status_code == 409
    assert "waits for its MRI form to be complete" in text_of(answer)
    assert 'data-role="step-error"' in text_of(answer)
    assert not CaseAssignment.objects.exists()


def test_a_data_manager_reopens_a_final_case_with_a_reason(case, people):
    dm = logged_in(people["dm"])
    url = case_url(case, "reopen")
    answer = dm.post(url, {"reopen-reason": "New CT shows an L3 wedge"})
    assert answer.status_code == 409 and "Only an adjudicated case can be reopened." in text_of(answer)
    final(case, people)
    page = text_of(dm.get(case_url(case)))
    assert "Reopen for review" in page and "No new fracture" in page
    answer = dm.post(url, {"reopen-reason": "  "})
    assert answer.status_code == 400 and "This field is required." in text_of(answer)
    assert 'id="reopen" open' in text_of(answer)
    assert logged_in(people["pi"]).post(url, {"reopen-reason": "x"}).status_code == 403
    case.refresh_from_db()
    assert (case.status, case.round) == (CaseStatus.FINAL, 1)
    answer = dm.post(url, {"reopen-reason": "New CT shows an L3 wedge"})
    assert answer.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.round) == (CaseStatus.OPEN, 2)
    assert "The case is back in review: round 2." in text_of(dm.get(answer.url))


def test_a_data_manager_withdraws_findings_entered_by_hand(case, people):
    dm = logged_in(people["dm"])
    manual = case_open_manual(actor=people["dm"], participant=case.participant, **MANUAL)
    evidence = manual.evidence.get()
    url = case_url(manual, f"evidence/{evidence.pk}/withdraw")
    key = f"withdraw-{evidence.pk}-reason"
    answer = dm.post(url, {key: ""})
    assert answer.status_code == 400 and "This field is required." in text_of(answer)
    assert logged_in(people["monitor"]).post(url, {key: "wrong patient"}).status_code == 403
    # The MRI form's evidence is withdrawn by correcting the form: a 409 that says so.
    record_evidence = case.evidence.get()
    answer = dm.post(
        case_url(case, f"evidence/{record_evidence.pk}/withdraw"),
        {f"withdraw-{record_evidence.pk}-reason": "x"},
    )
    assert answer.status_code == 409 and "correct the form to withdraw them" in text_of(answer)
    assert (
        dm.post(case_url(case, f"evidence/{evidence.pk}/withdraw"), {key: "x"}).status_code == 404
    )  # not its case
    answer = dm.post(url, {key: "Wrong patient"})
    assert answer.status_code == 302 and answer.url.endswith("#evidence")
    manual.refresh_from_db()
    assert manual.status == CaseStatus.CANCELLED
    page = text_of(dm.get(answer.url))
    assert "it is cancelled, its history kept" in page
    assert 'class="withdrawn"' in page and "withdrawn 2026-10-01" in page


# --- a case opened by hand ---------------------------------------------------------------------------------


def manual_body(case, **change) -> dict:
    return {
        "study_id": case.participant.study_id,
        "level": "L5",
        "exam_date": "2026-04-10",
        "modality": "ct",
        "findings": "Unscheduled CT: L5 wedge.",
        "reason": "Symptomatic event",
    } | change


def field_errors(answer) -> dict[str, str]:
    """{field name: its error text} of a redrawn form."""
    text = text_of(answer)
    found = {}
    for block in text.split('<div class="field has-error">')[1:]:
        name = re.search(r'name="(\w+)"', block).group(1)
        found[name] = re.search(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', block, re.S).group(1)
    return found


def test_a_data_manager_opens_a_case_by_hand_and_errors_show_beside_the_fields(
    case, people, make_participant
):
    dm = logged_in(people["dm"])
    form = text_of(dm.get(NEW, {"study_id": case.participant.study_id}))
    assert f'value="{case.participant.study_id}"' in form
    assert re.findall(r'<option value="([TL]\d+)"', form)[:1] == ["T1"] and '<option value="L5"' in form
    refusals = [
        ({"level": "L9"}, "level", "Select a valid choice"),
        ({"level": "L1"}, "level", "This level was treated"),
        ({"exam_date": "2027-01-01"}, "exam_date", "The date cannot be in the future."),
        ({"exam_date": "2025-12-31"}, "exam_date", "The exam cannot be before the enrollment."),
        ({"findings": ""}, "findings", "This field is required."),
        ({"reason": ""}, "reason", "This field is required."),
        ({"study_id": "07-9999"}, "study_id", "No participant has this study ID on your sites."),
        ({"modality": "pet"}, "modality", "Select a valid choice"),
    ]
    for change, field, message in refusals:
        answer = dm.post(NEW, manual_body(case, **change))
        assert answer.status_code == 400, change
        assert message in field_errors(answer).get(field, ""), (change, field_errors(answer))
    assert AdjudicationCase.objects.filter(origin="manual").count() == 0
    # No treated levels recorded yet (no procedure form): a 409 that says what to do.
    untreated = make_participant()
    answer = dm.post(NEW, manual_body(case, study_id=untreated.study_id))
    assert answer.status_code == 409 and "complete the procedure form first" in text_of(answer)
    for name, status in (("pi", 403), ("coordinator", 403), ("adj_a", 403)):
        assert logged_in(people[name]).get(NEW).status_code == status, name
        assert logged_in(people[name]).post(NEW, manual_body(case)).status_code == status, name

    answer = dm.post(NEW, manual_body(case))
    opened = AdjudicationCase.objects.get(origin="manual")
    assert answer.status_code == 302 and answer.url == case_url(opened)
    assert (opened.level, opened.location, opened.exam_date) == ("L5", "remote", datetime.date(2026, 4, 10))
    assert [slot for slot, _reader in active_readers(opened)] == ["first", "second"]
    page = text_of(dm.get(answer.url))
    assert (
        f"The findings are recorded on case {opened.pk} (L5)." in page and "Unscheduled CT: L5 wedge." in page
    )
