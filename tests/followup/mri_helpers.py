"""Helpers of the follow-up MRI tests: an MRI form's data, a visit collecting it, its API addresses and calls,
and the CRF fixtures of tests/crf/conftest.py, which this folder does not see (imported by the modules that
use them). MRI, make_visit and put_mri serve other tests too."""

import datetime

import pytest
from django.test import Client

from crf.models import FormRecord
from followup.models import Visit
from trial.models import Role

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put

# The procedure treated L1 and T12 (tests/crf/conftest.py PROCEDURE).
MRI = {
    "exam_date": "2026-06-01",
    "field_strength": "3.0",
    "sequences": ["t1", "t2", "stir"],
    "any_new_fracture": True,
    "levels": [
        {"level": "L2", "new_fracture": True, "acute_signal": True, "genant_grade": "1"},
        {"level": "T10", "new_fracture": True, "acute_signal": True, "genant_grade": "2"},
    ],
}


def make_visit(
    participant, code="M12", sequence=5, forms=("followup_mri",), target=datetime.date(2027, 1, 8)
) -> Visit:
    return Visit.objects.create(
        participant=participant,
        code=code,
        label={"en": "12 months", "zh-hans": "术后12个月"}
        if code == "M12"
        else {"en": code, "zh-hans": code},
        sequence=sequence,
        target_date=target,
        window_open=target - datetime.timedelta(days=30),
        window_close=target + datetime.timedelta(days=30),
        forms=list(forms),
        questionnaires=["odi", "vas"],
    )


def mri_url(participant, visit="M12", step="", form="followup_mri") -> str:
    return f"/api/v1/participants/{participant.study_id}/visits/{visit}/forms/{form}/" + (
        f"{step}/" if step else ""
    )


def put_mri(client, participant, data, *, visit="M12", version=None, reason=None):
    headers = {}
    if version is not None:
        headers["HTTP_IF_MATCH"] = f'"{version}"'
    if reason:
        headers["HTTP_X_CHANGE_REASON"] = reason
    return client.put(mri_url(participant, visit), {"data": data}, format="json", **headers)


def mri_record(participant, visit="M12") -> FormRecord:
    return FormRecord.objects.get(participant=participant, form_code="followup_mri", visit_code=visit)


# The CRF fixtures of tests/crf/conftest.py, which this folder does not see (no conftest here).
@pytest.fixture(name="participant")
def fixture_participant(make_participant):
    return make_participant()


@pytest.fixture(name="staff")
def fixture_staff(make_user, study, site, coordinator):
    return {
        "coordinator": coordinator,
        "investigator": make_user("inv07", role=Role.INVESTIGATOR, study=study, site=site),
        "monitor": make_user("mon", role=Role.MONITOR, study=study),
        "data_manager": make_user("dm", role=Role.DATA_MANAGER, study=study),
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
    }


@pytest.fixture(name="clients")
def fixture_clients(staff):
    return {role: client_for(user) for role, user in staff.items()}


@pytest.fixture(name="m12")
def fixture_m12(participant):
    return make_visit(participant)


@pytest.fixture(name="treated")
def fixture_treated(clients, participant):
    """The procedure form saved (L1 and T12 treated), as a draft: the MRI derives from its data."""
    assert put(clients["coordinator"], participant, PROCEDURE).status_code == 200


def logged_in(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def mri_exam(participant, actor, folder, day=datetime.date(2026, 6, 1), modality="MR", **dicom):
    """A follow-up exam of the participant registered from a DICOM file (pydicom's MR sample, edited: see
    tests/trial/imaging_data.py), dated the MRI's `day` by default; returns the trial.ImagingExam."""
    from trial.services import participant_exams_register

    from ..trial.imaging_data import dicom_file

    path = dicom_file(folder, f"{modality}-{day}.dcm", modality=modality, day=day, **dicom)
    return participant_exams_register(actor=actor, participant=participant, paths=[path]).exams[0]
