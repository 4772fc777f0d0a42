"""The adjudicator's pages: the queue with its counts, the blind review page and the e-signed verdict form;
the timeline's result for the site (never the review in progress); both languages."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from followup.models import AdjudicationCase, CaseAssignment, CaseStatus, Verdict
from followup.services.assignment import case_readers_assign

from ..factories import PASSWORD
from .reading_helpers import reading_code
from .test_adjudication_api import assert_blind
from .test_adjudication_api import case as case  # the fixture, with the predictors planted
from .test_adjudication_api import people as people

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

QUEUE = "/adjudication/"
YES = {
    "fracture": "true",
    "levels": ["L3"],
    "acute_signal": "true",
    "genant_grade": "2",
    "event_date": "2026-06-01",
    "confidence": "high",
    "comment": "",
}
NO = {"fracture": "false", "confidence": "moderate", "event_date": "2026-06-01"}  # the prefilled date stays


def web(user, language: str = "en"):
    client = Client()  # the pages post forms (the API's test client sends JSON)
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def signed(user) -> dict:
    return {"username": user.username, "password": PASSWORD}


def review(case, reader) -> str:
    """The reader's review page: by their reading code, never the case's number."""
    return f"{QUEUE}{reading_code(case, reader)}/"


def test_the_queue_shows_the_readers_cases_by_tab_with_counts_blind(case, people):
    page = web(people["adj_a"]).get(QUEUE)
    assert page.status_code == 200
    text = page.content.decode()
    code = reading_code(case, people["adj_a"])
    assert f">Case {code}</a>" in text and 'data-bucket="awaiting_me"' in text
    assert f"Case {case.pk}" not in text and f'href="{QUEUE}{code}/"' in text
    assert (
        'aria-current="page" data-bucket="awaiting_me">Awaiting my verdict <span class="count">1</span>'
        in text
    )
    assert_blind(text, case)
    chinese = web(people["adj_a"], "zh-hans").get(QUEUE).content.decode()
    assert "我的裁定病例" in chinese and "等待我的裁定" in chinese
    # Not a reader of any case: an empty queue, no other reader's case.
    assert f"Case {code}" not in web(people["adj_c"]).get(QUEUE).content.decode()


def test_the_review_page_shows_the_blind_packet_and_a_signed_verdict_is_recorded(case, people):
    reader = web(people["adj_a"])
    page = reader.get(review(case, people["adj_a"]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Treated levels" in text and "2026-01-08" in text and "Sign the verdict" in text
    assert_blind(text, case)
    done = reader.post(review(case, people["adj_a"]), YES | signed(people["adj_a"]))
    assert done.status_code == 302
    verdict = Verdict.objects.get()
    assert (verdict.fracture, verdict.levels, verdict.genant_grade, verdict.printed_name) == (
        True,
        ["L3"],
        2,
        "Test Adj_A",
    )
    after = reader.get(review(case, people["adj_a"])).content.decode()
    assert "Your verdict" in after and "Sign the verdict" not in after
    assert "(remote)" in after  # the derived position, shown as a check once the verdict is in
    assert "hidden until both verdicts are in" in after


def test_no_fracture_drops_the_prefilled_date(case, people):
    assert (
        web(people["adj_a"]).post(review(case, people["adj_a"]), NO | signed(people["adj_a"])).status_code
        == 302
    )
    assert Verdict.objects.get().event_date is None


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"password": "wrong"}, 403, "The password is not correct; the verdict was not signed."),
        ({"username": "adj_b"}, 403, "This is not your user ID; the verdict was not signed."),
        ({"levels": []}, 400, "Name the fractured level(s)."),
        ({"genant_grade": ""}, 400, "Grade the fracture: Genant 1, 2 or 3."),
        ({"event_date": "2027-01-01"}, 400, "The date cannot be in the future."),
        ({"confidence": ""}, 400, "This field is required."),
    ],
)
def test_a_bad_verdict_redraws_the_form_with_the_message_and_saves_nothing(
    case, people, change, status, message
):
    page = web(people["adj_a"]).post(review(case, people["adj_a"]), YES | signed(people["adj_a"]) | change)
    assert page.status_code == status
    assert message in page.content.decode()
    assert not Verdict.objects.exists()


def test_only_the_cases_readers_open_its_page(case, people):
    for name in ("adj_c", "coordinator", "dm", "pi"):
        assert web(people[name]).get(review(case, people["adj_a"])).status_code == 404, name
        assert (
            web(people[name]).post(review(case, people["adj_a"]), YES | signed(people[name])).status_code
            == 404
        ), name
    assert not Verdict.objects.exists()


def test_the_queue_runs_a_fixed_number_of_queries(case, cases, people):
    def count() -> int:
        reader = web(people["adj_a"])
        reader.get(QUEUE)  # the session and the menu's roles warm
        with CaptureQueriesContext(connection) as ctx:
            assert reader.get(QUEUE).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for other in cases[1:]:
        case_readers_assign(case=other)
    assert CaseAssignment.objects.filter(reader=people["adj_a"]).count() >= 2
    assert count() == few


def test_the_timeline_shows_the_site_the_result_never_the_review_in_progress(case, people):
    timeline = f"/participants/{case.participant.study_id}/timeline/"
    for name in ("adj_a", "adj_b"):
        answer = NO if name == "adj_b" else YES
        web(people[name]).post(review(case, people[name]), answer | signed(people[name]))
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPUTED
    page = web(people["coordinator"]).get(timeline).content.decode()
    assert "In blinded review" in page and "disagree" not in page and "Adj_" not in page
    web(people["adj_c"]).post(review(case, people["adj_c"]), YES | signed(people["adj_c"]))
    page = web(people["coordinator"], "zh-hans").get(timeline).content.decode()
    assert "确认新发骨折" in page and "2026-06-01" in page
    assert AdjudicationCase.objects.get(pk=case.pk).final_event_date == datetime.date(2026, 6, 1)
