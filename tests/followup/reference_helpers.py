"""Helpers of the reference-standard tests (NCT07306858: acute or chronic per registered vertebra): the study,
its people, and cases registered through the real services (screened, exams registered from DICOM headers,
registered), imported by the modules that use them."""

import datetime

import pytest

from tests.conftest import load_study
from trial.models import Role
from trial.services import participant_enroll, screening_create

from ..factories import PASSWORD
from ..trial.imaging_data import register_ct_and_mr

ASKED = {"INC1": True, "INC3": True, "INC4": True, "EXC1": False, "EXC2": False, "EXC3": False}
QUEUE = "/api/v1/adjudication/queue/"
ACUTE = {"fracture": True, "confidence": "high"}
CHRONIC = {"fracture": False, "confidence": "high"}


@pytest.fixture(name="retro")
def fixture_retro(db):
    return load_study("NCT07306858")


@pytest.fixture(name="ref_people")
def fixture_ref_people(make_user, retro):
    """A coordinator of each centre, three study-wide adjudicators, a data manager and a PI."""
    sites = {site.code: site for site in retro.sites.all()}
    people = {
        "coord_cq1": make_user("ref_coord_cq1", role=Role.COORDINATOR, study=retro, site=sites["CQ1"]),
        "coord_ext": make_user("ref_coord_ext1", role=Role.COORDINATOR, study=retro, site=sites["EXT1"]),
        "dm": make_user("refdm", role=Role.DATA_MANAGER, study=retro),
        "pi": make_user("refpi", role=Role.PRINCIPAL_INVESTIGATOR, study=retro),
    }
    for name in ("ref_adj_a", "ref_adj_b", "ref_adj_c"):
        people[name] = make_user(name, role=Role.ADJUDICATOR, study=retro)
    return people


@pytest.fixture(name="register_case")
def fixture_register_case(retro, ref_people, tmp_path):
    """register(levels, group, site_code) -> Participant: screened with its spine CT and MR registered from
    DICOM files (2026-01-01 and 2026-01-04), then registered by the centre's coordinator."""

    def register(levels=("T12", "L1"), group="acute", site_code="CQ1", actor=None):
        actor = actor or ref_people["coord_cq1" if site_code == "CQ1" else "coord_ext"]
        screening = screening_create(
            actor=actor,
            study=retro,
            site=retro.sites.get(code=site_code),
            data={
                "screening_date": datetime.date(2026, 1, 5),
                "age": 71,
                "sex": "female",
                "fracture_levels": list(levels),
                "answers": ASKED,
            },
        )
        register_ct_and_mr(actor, screening, tmp_path / f"case{screening.pk}")
        screening.refresh_from_db()
        assert screening.outcome == "eligible", screening.missing_criteria
        return participant_enroll(
            actor=actor,
            screening=screening,
            enrollment_date=datetime.date(2026, 1, 6),
            group=group,
            identity={"full_name": "Synthetic Case", "hospital_record_number": f"R-{screening.pk}"},
        )

    return register


def signed(user) -> dict:
    """The e-signature of a verdict: the user ID (the session's first signing) and the password."""
    return {"username": user.username, "password": PASSWORD}
