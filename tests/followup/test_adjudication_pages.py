"""The adjudication case board and case page as each role sees them (the API's rule: site staff see that a
case exists and its result, oversight the board without the readers' names, data managers everything), the
data manager's steps (assign, reassign, reopen, withdraw, open by hand) with their refusals shown on the page,
fixed query counts, both languages, and the menu."""

import datetime
import re

import pytest
from django.test import Client

from followup.models import AdjudicationCase, CaseAssignment, CaseEvidence, CaseStatus
from followup.services.assignment import case_reader_reassign, case_readers_assign
from followup.services.cases import case_open_manual
from followup.services.verdicts import verdict_submit
from trial.models import Role

from ..conftest import client_for
from ..factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

BOARD = "/adjudication/cases/"
NEW = "/adjudication/cases/new/"
NAMES = ("Adj_A", "Adj_B", "Adj_C")  # the readers' names (UserFactory: "Test Adj_A")
NO = {"fracture": False, "confidence": "moderate"}
YES = {
    "fracture": True,
    "levels": ["T10"],
    "acute_signal": True,
    "genant_grade": 1,
    "event_date": datetime.date(2026, 6, 1),
    "confidence": "low",
}
MANUAL = {
    "level": "L4",
    "exam_date": datetime.date(2026, 4, 10),
    "modality": "ct",
    "findings": "Unscheduled CT for new back pain: L4 wedge deformity.",
    "reason": "Symptomatic event between visits",
}


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def case_url(case, step: str = "") -> str:
    return f"{BOARD}{case.pk}/" + (f"{step}/" if step else "")


def text_of(answer) -> str:
    return answer.content.decode()


def rows(answer) -> dict[int, str]:
    """{case id: the view its row was drawn in} of a board page."""
    return {int(pk): view for pk, view in re.findall(r'id="case-(\d+)" data-view="(\w+)"', text_of(answer))}


def tabs(answer) -> dict[str, int]:
    found = re.findall(r'data-tab="(\w+)">[^<]*<span class="tab-count">(\d+)</span>', text_of(answer))
    return {key: int(n) for key, n in found}


@pytest.fixture
def people(readers, make_user, study, coordinator):
    return readers | {
        "coordinator": coordinator,
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
        "monitor": make_user("mon", role=Role.MONITOR, study=study),
    }


@pytest.fixture
def case(cases, people):
    """Case L3 read by adj_a (first, verdict given) and adj_b (second); T10 and T8 without readers."""
    case = cases[0]
    case_readers_assign(case=case)
    verdict_submit(
        actor=people["adj_a"], case=case, username=people["adj_a"].username, password=PASSWORD, **NO
    )
    return case


def final(case, people) -> AdjudicationCase:
    """The case made final: both readers found no fracture."""
    for name in ("adj_a", "adj_b"):
        if not case.verdicts.filter(reader=people[name], round=case.round).exists():
            verdict_submit(
                actor=people[name], case=case, username=people[name].username, password=PASSWORD, **NO
            )
    case.refresh_from_db()
    assert case.status == CaseStatus.FINAL
    return case


# --- what each role sees -----------------------------------------------------------------------------------


def disputed(case, people) -> AdjudicationCase:
    """The case read by two readers who disagree (a third is assigned)."""
    case_readers_assign(case=case)
    first, second = (CaseAssignment.objects.get(case=case, slot=slot).reader for slot in ("first", "second"))
    verdict_submit(actor=first, case=case, username=first.username, password=PASSWORD, **YES)
    verdict_submit(actor=second, case=case, username=second.username, password=PASSWORD, **NO)
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPUTED
    return case


def test_each_role_sees_the_board_it_may_and_no_more(case, cases, people):
    disputed(cases[1], people)
    seen = {
        name: logged_in(people[name]).get(BOARD) for name in ("coordinator", "pi", "monitor", "dm", "adj_a")
    }
    # readers use their queue, blind: the permission matrix refuses them the board (403), naming no case
    assert seen["adj_a"].status_code == 403
    assert not rows(seen["adj_a"]) and case.participant.study_id not in text_of(seen["adj_a"])
    every = {c.pk for c in cases}

    site = seen["coordinator"]
    assert site.status_code == 200 and set(rows(site)) == every and set(rows(site).values()) == {"site"}
    assert tabs(site) == {"all": 3, "in_review": 3, "final": 0, "cancelled": 0}  # no "disputed" count
    text = text_of(site)
    assert case.participant.study_id in text and "In review" in text
    hidden_texts = (
        "Round",
        "Verdicts",
        "Readers",
        "Awaiting",
        "Disputed",
        "disagree",
        "Open a case by hand",
        *NAMES,
    )
    for hidden in hidden_texts:
        assert hidden not in text, hidden

    for name in ("pi", "monitor"):
        board = seen[name]
        assert set(rows(board).values()) == {"oversight"}
        assert tabs(board) == {"all": 3, "open": 2, "disputed": 1, "final": 0, "cancelled": 0}
        text = text_of(board)
        row = text[text.index(f'id="case-{case.pk}"') :].split("</tr>")[0]
        assert re.findall(r'<td class="num">(\d+)</td>', row) == [
            "1",
            "2",
            "1",
        ]  # round, readers, verdicts in
        assert 'title="Awaiting adjudication">Awaiting readers<' in row
        for hidden in ("Assigned to", "Open a case by hand", *NAMES):
            assert hidden not in text, (name, hidden)

    # The page draws each case in the view the API answers with.
    for name in ("coordinator", "pi", "dm"):
        api = client_for(people[name]).get("/api/v1/adjudication-cases/").json()["results"]
        assert rows(seen[name]) == {row["id"]: row["view"] for row in api}, name

    managed = seen["dm"]
    assert set(rows(managed).values()) == {"manage"}
    text = text_of(managed)
    row = text[text.index(f'id="case-{case.pk}"') :].split("</tr>")[0]
    assert "Test Adj_A" in row and "Test Adj_B" in row
    assert "Open a case by hand" in text


def test_the_board_filters_by_status_site_and_study_id_and_a_bad_filter_is_a_400(
    case, cases, people, make_participant, other_site
):
    other = case_open_manual(actor=people["dm"], participant=case.participant, **MANUAL)
    final(case, people)
    pi, coordinator = logged_in(people["pi"]), logged_in(people["coordinator"])
    assert set(rows(pi.get(BOARD, {"status": "final"}))) == {case.pk}
    assert set(rows(pi.get(BOARD, {"status": "open"}))) == {cases[1].pk, cases[2].pk, other.pk}
    assert set(rows(coordinator.get(BOARD, {"status": "in_review"}))) == {cases[1].pk, cases[2].pk, other.pk}
    assert tabs(pi.get(BOARD, {"status": "final"}))["final"] == 1
    assert set(rows(pi.get(BOARD, {"study_id": case.participant.study_id}))) == {c.pk for c in cases} | {
        other.pk
    }
    assert rows(pi.get(BOARD, {"study_id": "07-9999"})) == {}
    assert set(rows(pi.get(BOARD, {"site": "07"}))) == {c.pk for c in cases} | {other.pk}
    assert rows(pi.get(BOARD, {"site": "91"})) == {}  # the other site has no case
    # Site staff cannot ask which cases are disputed: that is a review in progress.
    for client, query in (
        (coordinator, {"status": "disputed"}),
        (pi, {"status": "in_review_x"}),
        (pi, {"site": "99"}),
    ):
        answer = client.get(BOARD, query)
        assert answer.status_code == 400 and rows(answer) == {}, query
        assert "errorlist" in text_of(answer) or "alert-error" in text_of(answer)


def test_a_superuser_without_a_role_sees_the_board_as_oversight(case, cases, make_user):
    admin = make_user("root", is_superuser=True, is_staff=True)
    answer = logged_in(admin).get(BOARD)
    assert set(rows(answer).values()) == {"oversight"} and len(rows(answer)) == 3
    assert not any(name in text_of(answer) for name in NAMES)


def test_site_staff_of_another_site_see_none_of_its_cases(case, other_coordinator):
    answer = logged_in(other_coordinator).get(BOARD)
    assert answer.status_code == 200 and rows(answer) == {}
    assert logged_in(other_coordinator).get(case_url(case)).status_code == 404


def test_each_role_sees_the_case_page_it_may_and_no_more(case, people):
    manual = case_open_manual(actor=people["dm"], participant=case.participant, **MANUAL)
    pages = {
        name: logged_in(people[name]).get(case_url(case))
        for name in ("coordinator", "pi", "monitor", "dm", "adj_a")
    }
    assert pages["adj_a"].status_code == 404
    site = text_of(pages["coordinator"])
    assert pages["coordinator"].status_code == 200 and "In review" in site
    for hidden in ("Round", "Readers assigned", 'id="evidence"', 'id="verdicts"', 'id="readers"', *NAMES):
        assert hidden not in site, hidden
    for name in ("pi", "monitor"):
        text = text_of(pages[name])
        assert 'data-role="round">1<' in text and "Awaiting adjudication" in text
        for hidden in ('id="evidence"', 'id="verdicts"', 'id="readers"', "Reassign", "Reopen", *NAMES):
            assert hidden not in text, (name, hidden)
    managed = text_of(pages["dm"])
    assert re.findall(r'data-role="reader">([^<]+)<', managed) == ["Test Adj_A", "Test Adj_B"]
    assert re.findall(r'data-role="signer">([^<]+)<', managed) == ["Test Adj_A"]  # the printed name
    assert "Follow-up spine MRI" in managed and f'data-evidence="{case.evidence.get().pk}"' in managed
    assert "Reassign" in managed and "Reopen" not in managed  # not final
    # Only the second slot can change hands: the first has given this round's verdict.
    form = managed[managed.index('id="reassign"') :]
    assert re.findall(r'<option value="(\w+)"', form.split('name="reassign-reader"')[0]) == ["second"]
    assert re.findall(
        r'<option value="(\d+)"', form.split('name="reassign-reader"')[1].split("</select>")[0]
    ) == [
        str(people["adj_c"].pk)  # not adj_07 (site 07), not the two on the case
    ]
    by_hand = text_of(logged_in(people["dm"]).get(case_url(manual)))
    assert MANUAL["findings"] in by_hand and "Entered by Test Dm" in by_hand and "Withdraw" in by_hand


# --- fixed query counts ------------------------------------------------------------------------------------


def grow(case, people, make_participant):
    """Three more cases of another participant (two with readers, one with a verdict), and findings by hand on
    the first case: the pages' counts must not move."""
    participant = make_participant()
    added = []
    for level in ("T6", "T5", "T4"):
        added.append(
            AdjudicationCase.objects.create(
                participant=participant, level=level, location="remote", exam_date=case.exam_date
            )
        )
    for extra, reader in zip(added[:2], ("adj_b", "adj_c"), strict=True):
        CaseAssignment.objects.create(case=extra, reader=people[reader], slot="first")
        CaseAssignment.objects.create(case=extra, reader=people["adj_a"], slot="second")
    for details in ("Radiograph: L5 height loss.", "CT: L5 endplate fracture."):
        case_open_manual(
            actor=people["dm"],
            participant=case.participant,
            **(MANUAL | {"level": "L5", "findings": details}),
        )
    CaseEvidence.objects.filter(case=case).update(findings="")  # the form's evidence, as it is


@pytest.mark.parametrize("role", ["coordinator", "pi", "monitor", "dm"])
def test_the_board_runs_a_fixed_number_of_queries(
    case, cases, people, make_participant, role, django_assert_num_queries
):
    client = logged_in(people[role])
    # the user's roles are read once a request (trial.access.user_roles) for the permission matrix, the menu
    # and the board's view of each case (followup.selectors.adjudication.case_views)
    expected = {"coordinator": 6, "pi": 6, "monitor": 6, "dm": 7}[role]
    with django_assert_num_queries(expected):
        assert client.get(BOARD).status_code == 200
    grow(case, people, make_participant)
    with django_assert_num_queries(expected):
        assert client.get(BOARD).status_code == 200
    with django_assert_num_queries(expected):
        assert (
            client.get(BOARD, {"status": "in_review" if role == "coordinator" else "open"}).status_code == 200
        )


@pytest.mark.parametrize("role", ["coordinator", "pi", "dm"])
def test_the_case_page_runs_a_fixed_number_of_queries(
    case, people, make_participant, role, django_assert_num_queries
):
    client = logged_in(people[role])
    # the user's roles are read once a request (trial.access.user_roles): the permission matrix, the menu,
    # the case's view (case_views) and the data manager's role at the site (roles_at) share it
    expected = {"coordinator": 4, "pi": 4, "dm": 9}[role]
    with django_assert_num_queries(expected):
        assert client.get(case_url(case)).status_code == 200
    grow(case, people, make_participant)
    case_open_manual(
        actor=people["dm"], participant=case.participant, **(MANUAL | {"level": "L3", "findings": "CT."})
    )
    case.refresh_from_db()
    case_reader_reassign(actor=people["dm"], case=case, slot="second", reader=people["adj_c"], reason="leave")
    with django_assert_num_queries(expected):
        assert client.get(case_url(case)).status_code == 200


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


# --- menu and language -------------------------------------------------------------------------------------


def test_the_menu_offers_the_board_to_data_managers_and_oversight_only(case, people):
    for name, offered in (
        ("dm", True),
        ("pi", True),
        ("monitor", True),
        ("coordinator", False),
        ("adj_a", False),
    ):
        text = text_of(logged_in(people[name]).get("/"))
        assert (f'href="{BOARD}"' in text) is offered, name
    board = text_of(logged_in(people["dm"]).get(BOARD))
    assert f'<a href="{BOARD}" aria-current="page">Adjudication</a>' in board
    assert f'<a href="{BOARD}" aria-current="page">' in text_of(logged_in(people["dm"]).get(case_url(case)))


@pytest.mark.parametrize("role", ["coordinator", "pi", "dm"])
def test_the_pages_read_in_chinese(case, people, role):
    final(case, people)
    client = logged_in(people[role], "zh-hans")
    board, page = text_of(client.get(BOARD)), text_of(client.get(case_url(case)))
    assert "裁定病例" in board and "已裁定" in board and "无新发骨折" in board
    assert "病例" in page and "无新发骨折" in page
    for english in ("Adjudication cases", "No new fracture", "Study ID", "Exam date", "Result"):
        assert english not in board and english not in page, english
    if role == "dm":
        assert "影像证据" in page and "第一阅片人" in page and "重新开启裁定" in page
        new = text_of(client.get(NEW))
        assert "手动开立病例" in new and "Findings" not in new
