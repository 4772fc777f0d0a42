"""The adjudication case board and case page as each role sees them (the API's rule: site staff see that a
case exists and its result, oversight the board without the readers' names, data managers everything), the
board's filters, fixed query counts, both languages, and the menu."""

import datetime
import re

import pytest

from followup.models import AdjudicationCase, CaseAssignment, CaseEvidence, CaseStatus
from followup.services.assignment import case_reader_reassign, case_readers_assign
from followup.services.cases import case_open_manual
from followup.services.verdicts import verdict_submit

from ..conftest import client_for
from ..factories import PASSWORD
from .adjudication_page_helpers import (  # noqa: F401 -- fixtures
    BOARD,
    MANUAL,
    NEW,
    NO,
    case_url,
    final,
    fixture_case,
    fixture_people,
    logged_in,
    text_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


NAMES = ("Adj_A", "Adj_B", "Adj_C")  # the readers' names (UserFactory: "Test Adj_A")
YES = {
    "fracture": True,
    "levels": ["T10"],
    "acute_signal": True,
    "genant_grade": 1,
    "event_date": datetime.date(2026, 6, 1),
    "confidence": "low",
}


def rows(answer) -> dict[int, str]:
    """{case id: the view its row was drawn in} of a board page."""
    return {int(pk): view for pk, view in re.findall(r'id="case-(\d+)" data-view="(\w+)"', text_of(answer))}


def tabs(answer) -> dict[str, int]:
    found = re.findall(r'data-tab="(\w+)">[^<]*<span class="tab-count">(\d+)</span>', text_of(answer))
    return {key: int(n) for key, n in found}


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
    # and the board's view of each case (followup.selectors.adjudication.case_views); a study-wide reader's
    # menu asks which studies are analysed per vertebra (reports' "Model outputs" item)
    expected = {"coordinator": 6, "pi": 7, "monitor": 7, "dm": 8}[role]
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
    # the case's view (case_views) and the data manager's role at the site (roles_at) share it; a study-wide
    # reader's menu asks which studies are analysed per vertebra
    expected = {"coordinator": 4, "pi": 5, "dm": 10}[role]
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
