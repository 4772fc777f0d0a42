"""Helpers of the adjudication page tests: the pages' addresses, verdicts and manual findings, a logged-in
client, readers of a board page, and the people and case fixtures (imported by the modules that use them)."""

import datetime

import pytest
from django.test import Client

from followup.models import AdjudicationCase, CaseStatus
from followup.services.assignment import case_readers_assign
from followup.services.verdicts import verdict_submit
from trial.models import Role

from ..factories import PASSWORD

BOARD = "/adjudication/cases/"
NEW = "/adjudication/cases/new/"
NO = {"fracture": False, "confidence": "moderate"}
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


@pytest.fixture(name="people")
def fixture_people(readers, make_user, study, coordinator):
    return readers | {
        "coordinator": coordinator,
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
        "monitor": make_user("mon", role=Role.MONITOR, study=study),
    }


@pytest.fixture(name="case")
def fixture_case(cases, people):
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
