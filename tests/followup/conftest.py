"""Fixtures of the follow-up tests: adjudication cases opened by a real follow-up MRI, and their readers."""

import pytest

from crf.models import FormRecord, FormStatus
from followup.models import AdjudicationCase
from trial.models import Role, StaffRole

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put
from .mri_helpers import make_visit, put_mri
from .test_adjudication import mri


@pytest.fixture
def draft_cases(make_participant, coordinator):
    """Three cases of one participant of site 07: the follow-up MRI, still a draft, reports three new
    fractures (treated L1 and T12)."""
    participant = make_participant()
    make_visit(participant)
    api = client_for(coordinator)
    assert put(api, participant, PROCEDURE).status_code == 200
    assert put_mri(api, participant, mri("L3", "T10", "T8")).status_code == 200
    return list(AdjudicationCase.objects.filter(participant=participant).order_by("level"))


@pytest.fixture
def cases(draft_cases):
    """The same cases ready for review with no reader yet: the MRI record is marked complete directly
    (completing it through crf_complete assigns the readers: test_assignment.py tests that path)."""
    FormRecord.objects.filter(pk=draft_cases[0].record_id).update(status=FormStatus.COMPLETE)
    return draft_cases


@pytest.fixture
def readers(make_user, study, site):
    """Three adjudicators of other sites, and one who is also a coordinator at site 07."""
    people = {
        name: make_user(name, role=Role.ADJUDICATOR, study=study) for name in ("adj_a", "adj_b", "adj_c")
    }
    people["adj_07"] = make_user("adj_07", role=Role.ADJUDICATOR, study=study)
    StaffRole.objects.create(user=people["adj_07"], study=study, site=site, role=Role.COORDINATOR)
    people["dm"] = make_user("dm", role=Role.DATA_MANAGER, study=study)
    return people
