"""CRF fixtures: an enrolled participant, staff in every role, valid form data."""

import hashlib
import json

import pytest

from trial.models import Role

from ..conftest import client_for

PROCEDURE = {
    "procedure_date": "2026-01-08",
    "technique": "PKP",
    "anaesthesia": "local",
    "operator": "Dr Demo",
    "cement_type": "pmma",
    "operative_time": 38,
    "intraop_complications": ["none"],
    "levels": [
        {"level": "L1", "approach": "bipedicular", "cement_volume": 4.5, "balloon": True, "leakage": False},
        {"level": "T12", "approach": "unipedicular", "cement_volume": 3.5, "balloon": True, "leakage": False},
    ],
}
FRACTURES = {
    "mri_date": "2026-01-04",
    "fractures": [
        {
            "level": "L1",
            "acuity": "acute",
            "oedema": True,
            "genant_grade": "2",
            "height_loss": 30,
            "cause": "low_energy_fall",
        },
        {
            "level": "T12",
            "acuity": "acute",
            "oedema": True,
            "genant_grade": "1",
            "height_loss": 22,
            "cause": "low_energy_fall",
        },
    ],
}


@pytest.fixture
def participant(make_participant):
    return make_participant()


@pytest.fixture
def staff(make_user, study, site, coordinator):
    return {
        "coordinator": coordinator,
        "investigator": make_user("inv07", role=Role.INVESTIGATOR, study=study, site=site),
        "monitor": make_user("mon", role=Role.MONITOR, study=study),
        "data_manager": make_user("dm", role=Role.DATA_MANAGER, study=study),
        "pi": make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study),
    }


@pytest.fixture
def clients(staff):
    return {role: client_for(user) for role, user in staff.items()}


def form_url(participant, form="procedure", step=""):
    return f"/api/v1/participants/{participant.study_id}/forms/{form}/" + (f"{step}/" if step else "")


def put(client, participant, data, *, form="procedure", version=None, reason=None):
    headers = {}
    if version is not None:
        headers["HTTP_IF_MATCH"] = f'"{version}"'
    if reason:
        headers["HTTP_X_CHANGE_REASON"] = reason
    return client.put(form_url(participant, form), {"data": data}, format="json", **headers)


def act(client, participant, step, body=None, *, form="procedure", **headers):
    """A life-cycle step as a client does it: read the form, then send its ETag back in If-Match."""
    etag = client.get(form_url(participant, form)).get("ETag", '"0"')
    return client.post(form_url(participant, form, step), body, format="json", HTTP_IF_MATCH=etag, **headers)


def current_version(participant, form="procedure") -> int:
    from crf.models import FormRecord

    return FormRecord.objects.get(participant=participant, form_code=form).version


def canonical_sha256(data) -> str:
    """SHA-256 of the canonical JSON text a signature hashes (21 CFR 11.70): keys sorted, json.dumps' default
    separators ", " and ": ", non-ASCII characters as themselves, UTF-8. Written here, not taken from the
    service; the hand-worked example in test_api_forms.py pins it to a literal text."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
