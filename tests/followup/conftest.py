"""Fixtures of the follow-up tests: adjudication cases opened by a real follow-up MRI, and their readers."""

import pytest

from followup.models import AdjudicationCase
from trial.models import Role, StaffRole

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put
from .test_adjudication import mri
from .test_followup_mri import make_visit, put_mri


@pytest.fixture
def cases(make_participant, coordinator):
    """Three cases of one participant of site 07 (the follow-up MRI reports three new fractures)."""
    participant = make_participant()
    make_visit(participant)
    api = client_for(coordinator)
    assert put(api, participant, PROCEDURE).status_code == 200  # treated L1 and T12
    assert put_mri(api, participant, mri("L3", "T10", "T8")).status_code == 200
    return list(AdjudicationCase.objects.filter(participant=participant).order_by("level"))


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
