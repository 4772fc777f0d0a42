"""A typed client generated from the schema the server serves drives screen -> enroll -> form -> complete.

openapi-python-client generates the client at test time, into tmp_path, from /api/schema/ as a live server
(pytest-django's, on the suite's PostgreSQL) serves it: the client is always the current schema's, so a schema
the generator cannot use, or whose operations and models the server does not honour, fails the build. The
generated code is not committed: three other engineers change the schema at once, and a committed copy would
be regenerated on every change for no reader (about 280 files). Generating takes 3-5 s on a busy two-core
machine (without the ruff hooks, which only format).

The generator runs offline: it reads the schema from a file (never a URL). The flow calls only the generated
functions and models (no hand-written URL); the one hand-written request fetches the schema itself, with a
token, as the permission matrix asks.
"""

import datetime
import importlib
import inspect
import json
import sys
import time
import typing
from pathlib import Path

import httpx
import pytest
import yaml
from django.conf import settings as django_settings
from openapi_python_client import generate
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser.errors import ErrorLevel, GeneratorError

from crf.models import FormRecord
from trial.models import Role

from ..conftest import ELIGIBLE_ANSWERS
from ..crf.conftest import PROCEDURE
from ..factories import PASSWORD

CONFIG = Path(django_settings.BASE_DIR) / "trial" / "apis" / "openapi_python_client.yaml"
PACKAGE = "spinetrial_client"
# httpx's default is 5 s: on a busy two-core machine a sign-in alone has taken longer.
TIMEOUT = httpx.Timeout(60)

# Generator warnings that are known and accepted: a piece of the text ("header: detail") -> why it is fine.
# Every other warning fails the test: a warning means a part of the API is missing from the client.
ACCEPTED_WARNINGS: dict[str, str] = {}


def client_generate(*, schema: Path, out: Path) -> list[GeneratorError]:
    """Generate the client package from `schema` into `out` with the project's configuration; its warnings.

    The post hooks (ruff check --fix, ruff format) are left out: they only format code that is imported here.
    """
    config_file = ConfigFile(**yaml.safe_load(CONFIG.read_text(encoding="utf-8")))
    config_file.post_hooks = []
    config = Config.from_sources(
        config_file, MetaType.NONE, schema, "utf-8", overwrite=False, output_path=out
    )
    return list(generate(config=config))


def unaccepted(errors: list[GeneratorError], accepted: dict[str, str]) -> list[str]:
    """The errors and warnings not listed in `accepted`, as text."""
    texts = [f"{error.level.value} {error.header}: {error.detail}" for error in errors]
    return [
        text
        for text, error in zip(texts, errors, strict=True)
        if error.level is ErrorLevel.ERROR or not any(piece in text for piece in accepted)
    ]


@pytest.fixture
def client_package(tmp_path):
    """A function that generates the client from a schema and imports it; the import is undone afterwards."""
    sys.path.insert(0, str(tmp_path))

    def make(schema: dict):
        path = tmp_path / "schema.json"
        path.write_text(json.dumps(schema), encoding="utf-8")
        started = time.perf_counter()
        errors = client_generate(schema=path, out=tmp_path / PACKAGE)
        print(f"client generated in {time.perf_counter() - started:.1f} s")
        assert unaccepted(errors, ACCEPTED_WARNINGS) == []
        importlib.invalidate_caches()
        return importlib.import_module(PACKAGE)

    yield make
    sys.path.remove(str(tmp_path))
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def served_schema(base_url: str, *, username: str) -> dict:
    """/api/schema/ as the live server serves it to a signed-in user (the matrix serves it to no one else)."""
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as http:
        token = http.post("/api/v1/auth/token/", json={"username": username, "password": PASSWORD})
        token.raise_for_status()
        headers = {"Authorization": f"Token {token.json()['token']}"}
        answer = http.get("/api/schema/", params={"format": "json"}, headers=headers)
        answer.raise_for_status()
        return answer.json()


@pytest.mark.frozen
def test_a_client_generated_from_the_served_schema_screens_enrolls_and_completes_a_form(
    transactional_db, live_server, settings, client_package, coordinator, make_user, study
):
    settings.PERMISSION_MATRIX_ENFORCED = True  # production's rules: what a real client meets
    make_user("dm", role=Role.DATA_MANAGER, study=study)
    package = client_package(served_schema(live_server.url, username="dm"))
    from spinetrial_client import models
    from spinetrial_client.api.v1 import (
        v1_auth_token_create,
        v1_participants_forms_create,
        v1_participants_forms_retrieve,
        v1_participants_forms_update,
        v1_participants_list,
        v1_screenings_create,
        v1_screenings_enroll_create,
    )
    from spinetrial_client.models import (
        V1ParticipantsFormsCreateStep,
        V1ParticipantsListSite,
        V1ParticipantsListStatus,
    )

    # The token endpoint reads no credentials: its generated function takes a client without a token.
    assert package.Client in typing.get_args(
        inspect.signature(v1_auth_token_create.sync).parameters["client"].annotation
    )

    def signed_in(username: str):
        """A client with the user's token, asked for through the generated client (no token needed)."""
        with package.Client(
            base_url=live_server.url, timeout=TIMEOUT, raise_on_unexpected_status=True
        ) as anonymous:
            token = v1_auth_token_create.sync(
                client=anonymous, body=models.TokenIn(username=username, password=PASSWORD)
            )
        assert isinstance(token, models.TokenOut), token
        return package.AuthenticatedClient(
            base_url=live_server.url,
            token=token.token,
            prefix="Token",
            timeout=TIMEOUT,
            raise_on_unexpected_status=True,
        )

    with signed_in("coord07") as api:
        screening = v1_screenings_create.sync(
            client=api,
            body=models.ScreeningIn(
                study=models.StudyEnum(study.code),  # the shipped protocols' codes, as enums
                site=models.SiteEnum("07"),
                screening_date=datetime.date(2026, 1, 5),
                age=72,
                sex=models.SexEnum.FEMALE,
                fracture_levels=["L1"],
                answers=models.ScreeningInAnswers.from_dict(ELIGIBLE_ANSWERS),
            ),
        )
        assert isinstance(screening, models.ScreeningOut), screening
        assert screening.outcome is models.OutcomeEnum.ELIGIBLE

        participant = v1_screenings_enroll_create.sync(
            screening.id,
            client=api,
            body=models.EnrollIn(
                consent_date=datetime.date(2026, 1, 6),
                enrollment_date=datetime.date(2026, 1, 7),
                identity=models.IdentityIn(full_name="Synthetic Person", phone="13800000000"),
            ),
        )
        assert isinstance(participant, models.ParticipantOut), participant
        assert participant.status is models.ParticipantOutStatusEnum.ENROLLED
        study_id = participant.study_id

        # Read, then save with the version read: the ETag goes back as If-Match.
        read = v1_participants_forms_retrieve.sync_detailed(study_id, "procedure", client=api)
        assert (read.parsed.status, read.headers["ETag"]) == ("not_started", '"0"')
        body = models.FormDataIn(data=models.FormDataInData.from_dict(PROCEDURE))
        saved = v1_participants_forms_update.sync_detailed(
            study_id, "procedure", client=api, body=body, if_match=read.headers["ETag"]
        )
        assert isinstance(saved.parsed, models.FormOut), saved.parsed
        assert (saved.parsed.status, saved.headers["ETag"]) == ("draft", '"1"')
        stale = v1_participants_forms_update.sync(
            study_id, "procedure", client=api, body=body, if_match=read.headers["ETag"]
        )
        assert isinstance(stale, models.Error) and stale.code == "stale_version"

        complete = V1ParticipantsFormsCreateStep.COMPLETE
        completed = v1_participants_forms_create.sync(
            study_id, "procedure", complete, client=api, if_match=saved.headers["ETag"]
        )
        assert isinstance(completed, models.FormOut), completed
        again = v1_participants_forms_retrieve.sync(study_id, "procedure", client=api)
        assert (again.status, again.version, again.data.to_dict()) == ("complete", 2, PROCEDURE)
    assert FormRecord.objects.get(participant__study_id=study_id, form_code="procedure").status == "complete"

    with signed_in("dm") as data_manager:
        enrolled = v1_participants_list.sync(
            client=data_manager, site=V1ParticipantsListSite("07"), status=V1ParticipantsListStatus.ENROLLED
        )
        withdrawn = v1_participants_list.sync(
            client=data_manager, site=V1ParticipantsListSite("07"), status=V1ParticipantsListStatus.WITHDRAWN
        )
    assert isinstance(enrolled, models.PaginatedParticipantOutList), enrolled
    assert [row.study_id for row in enrolled.results] == [study_id] and enrolled.count == 1
    assert withdrawn.count == 0 and withdrawn.results == []


def test_a_generator_warning_fails_unless_accepted(tmp_path):
    """The gate bites: a response the generator cannot read is a warning, and only a listed one passes."""
    schema = {
        "openapi": "3.0.3",
        "info": {"title": "Probe", "version": "1"},
        "paths": {
            "/probe/": {
                "get": {
                    "operationId": "probe",
                    "responses": {"200": {"description": "A file", "content": {"image/x-probe": {}}}},
                }
            }
        },
    }
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    errors = client_generate(schema=path, out=tmp_path / "probe")
    assert [error.level for error in errors] == [ErrorLevel.WARNING]
    assert len(unaccepted(errors, {})) == 1
    assert unaccepted(errors, {"image/x-probe": "a probe"}) == []
