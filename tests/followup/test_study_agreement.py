"""The readers' agreement over a study's cases, from their e-signed verdicts through the API, against values
worked by hand and against statsmodels.

Eleven cases of one participant (levels T2-T11 and L2; L1 and T12 treated), read by the first and second
reader as below (Genant grade in brackets, 0 for "no fracture"):
  both yes: T2 (1, 1), T3 (2, 2), T4 (1, 2), T5 (3, 3)      first yes, second no: T6 (1, 0), T7 (1, 0)
  first no, second yes: T8 (0, 1)                           both no: T9, T10, and T11 in its second round
  T11 was read yes/yes (2, 2) first, then reopened by the data manager and read no/no: only its latest round
  counts. L2 has the first reader's verdict only: not a pair. T6's third reader is not one of the pair.

Main question, n = 10: the table [[4, 2], [1, 3]] (rows the first reader, yes first).
  observed po = (4 + 3) / 10 = 0.7; margins first 0.6 / 0.4, second 0.5 / 0.5;
  chance pe = 0.6 * 0.5 + 0.4 * 0.5 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
  Fleiss, Cohen & Everitt (1969) variance, 1 - kappa = 0.6:
    A = 0.4 * (1 - (0.6 + 0.5) * 0.6)^2 + 0.3 * (1 - (0.4 + 0.5) * 0.6)^2 = 0.04624 + 0.06348 = 0.10972
    B = 0.6^2 * (0.2 * (0.5 + 0.4)^2 + 0.1 * (0.5 + 0.6)^2) = 0.36 * (0.162 + 0.121) = 0.10188
    C = (0.4 - 0.5 * 0.6)^2 = 0.01
    var = (A + B - C) / (n * (1 - pe)^2) = 0.2016 / 2.5 = 0.08064; se = 0.2839718
  95 % interval: 0.4 -+ 1.959964 * 0.2839718 = -0.156575 to 0.956575.

Genant grade, n = 10: rows (first) 0: [3, 1, 0, 0], 1: [2, 1, 1, 0], 2: [0, 0, 1, 0], 3: [0, 0, 0, 1].
  Linear weights on 4 grades: 1 on the diagonal, 2/3 one apart, 1/3 two apart, 0 three apart.
  observed = 6 / 10 + 2/3 * 4 / 10 = 0.8666667
  margins first (4, 4, 1, 1) / 10, second (5, 2, 2, 1) / 10; chance = sum w_ij r_i c_j
    = 0.4 * 0.7 + 0.4 * 0.7 + 0.1 * 0.5666667 + 0.1 * 0.3 = 0.6466667
  weighted kappa = (0.8666667 - 0.6466667) / (1 - 0.6466667) = 0.22 / 0.3533333 = 33/53 = 0.6226415
"""

import datetime

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from crf.models import FormRecord, FormStatus
from followup.models import AdjudicationCase, CaseAssignment
from followup.selectors.agreement import study_agreement
from followup.services.assignment import case_readers_assign
from followup.services.verdicts import case_reopen, verdict_submit
from trial.models import Role

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put
from ..factories import PASSWORD
from .mri_helpers import make_visit, put_mri
from .test_adjudication import mri

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

AGREEMENT = "/api/v1/studies/NCT06379243/adjudication-agreement/"
READINGS = {  # level: (first reader's grade, second reader's grade); None: no fracture
    "T2": (1, 1),
    "T3": (2, 2),
    "T4": (1, 2),
    "T5": (3, 3),
    "T6": (1, None),
    "T7": (1, None),
    "T8": (None, 1),
    "T9": (None, None),
    "T10": (None, None),
}


def verdict(level: str, grade: int | None) -> dict:
    if grade is None:
        return {"fracture": False, "confidence": "moderate"}
    return {
        "fracture": True,
        "levels": [level],
        "genant_grade": grade,
        "event_date": datetime.date(2026, 6, 1),
        "confidence": "high",
    }


def read(case: AdjudicationCase, slot: str, grade: int | None) -> None:
    reader = CaseAssignment.objects.get(case=case, slot=slot, active=True).reader
    verdict_submit(
        actor=reader, case=case, username=reader.username, password=PASSWORD, **verdict(case.level, grade)
    )


@pytest.fixture
def verdicts(make_participant, coordinator, readers):
    participant = make_participant()
    make_visit(participant)
    api = client_for(coordinator)
    assert put(api, participant, PROCEDURE).status_code == 200  # treated L1 and T12
    assert put_mri(api, participant, mri(*READINGS, "T11", "L2")).status_code == 200
    cases = {case.level: case for case in AdjudicationCase.objects.filter(participant=participant)}
    # Only a complete MRI goes to review: marked complete directly, as tests/followup/conftest.py's `cases`.
    FormRecord.objects.filter(participant=participant, form_code="followup_mri").update(
        status=FormStatus.COMPLETE
    )
    for case in cases.values():
        case_readers_assign(case=case)
    for level, (first, second) in READINGS.items():
        read(cases[level], "first", first)
        read(cases[level], "second", second)
    read(cases["T6"], "third", 1)  # the tie-breaker: final, and no part of the readers' agreement
    read(cases["T11"], "first", 2)
    read(cases["T11"], "second", 2)
    case_reopen(actor=readers["dm"], case=cases["T11"], reason="the M12 images were of another patient")
    read(cases["T11"], "first", None)
    read(cases["T11"], "second", None)
    read(cases["L2"], "first", 1)  # the second has not read it yet


def test_the_agreement_api_matches_the_hand_worked_values_and_statsmodels(
    verdicts, study, make_user, django_assert_num_queries
):
    pi = client_for(make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study))
    # The permission matrix's read of the user's roles (trial.access.user_roles); the study, the user's sites
    # with the role (the sites themselves, the roles a subquery), the verdicts.
    with django_assert_num_queries(4):
        answer = pi.get(AGREEMENT).json()
    assert (answer["n"], answer["categories"], answer["table"]) == (10, [True, False], [[4, 2], [1, 3]])
    assert answer["observed"] == pytest.approx(0.7) and answer["expected"] == pytest.approx(0.5)
    assert answer["kappa"] == pytest.approx(0.4) and answer["undefined"] is None
    assert (answer["low"], answer["high"]) == (
        pytest.approx(-0.156575, abs=1e-6),
        pytest.approx(0.956575, abs=1e-6),
    )
    reference = cohens_kappa(np.array(answer["table"]), return_results=True)
    assert (answer["kappa"], answer["low"], answer["high"]) == pytest.approx(
        (reference.kappa, reference.kappa_low, reference.kappa_upp)
    )

    genant = answer["genant"]
    table = [[3, 1, 0, 0], [2, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    assert (genant["n"], genant["categories"], genant["table"]) == (10, [0, 1, 2, 3], table)
    assert genant["observed"] == pytest.approx(0.8666667) and genant["expected"] == pytest.approx(0.6466667)
    assert genant["kappa"] == pytest.approx(33 / 53)
    reference = cohens_kappa(np.array(table), wt="linear", return_results=True)
    assert (genant["kappa"], genant["low"], genant["high"]) == pytest.approx(
        (reference.kappa, reference.kappa_low, reference.kappa_upp)
    )

    # The service alone: the verdicts in one query, whatever their number (the verdicts take seconds to sign:
    # checked here rather than on a second copy of them).
    with django_assert_num_queries(1):
        assert study_agreement(study=study).main.table == ((4, 2), (1, 3))


def test_without_verdicts_kappa_is_undefined_not_made_up(study, readers):
    answer = client_for(readers["dm"]).get(AGREEMENT).json()
    assert (answer["kappa"], answer["low"], answer["n"], answer["undefined"]) == (None, None, 0, "no_pairs")
    assert answer["table"] == [[0, 0], [0, 0]] and answer["genant"]["undefined"] == "no_pairs"
