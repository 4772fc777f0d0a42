"""A retrospective study's cases (NCT07306858), shared by the registration tests and the tests of what reads
them: the study, a coordinator of its development centre, and a case screened with its spine CT and MR."""

import datetime

import pytest

from tests.conftest import load_study
from trial.models import Role
from trial.services import screening_create

from .imaging_data import register_ct_and_mr

ASKED = {"INC1": True, "INC3": True, "INC4": True, "EXC1": False, "EXC2": False, "EXC3": False}
IDENTITY = {"full_name": "Synthetic Case", "hospital_record_number": "R-0001"}


@pytest.fixture(name="retro")
def fixture_retro(db):
    return load_study("NCT07306858")


@pytest.fixture(name="retro_coordinator")
def fixture_retro_coordinator(make_user, retro):
    return make_user("coordcq", role=Role.COORDINATOR, study=retro, site=retro.sites.get(code="CQ1"))


@pytest.fixture(name="make_case")
def fixture_make_case(retro, retro_coordinator, tmp_path):
    """A case screened with its spine CT and MR registered 3 days apart (INC2, computed from them)."""

    def make(*, age=68, site_code="CQ1", actor=None):
        screening = screening_create(
            actor=actor or retro_coordinator,
            study=retro,
            site=retro.sites.get(code=site_code),
            data={
                "screening_date": datetime.date(2026, 1, 5),
                "age": age,
                "sex": "female",
                "fracture_levels": ["L1"],
                "answers": ASKED,
            },
        )
        register_ct_and_mr(actor or retro_coordinator, screening, tmp_path / f"case{screening.pk}")
        screening.refresh_from_db()
        return screening

    return make
