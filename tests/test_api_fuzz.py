"""schemathesis over /api/schema/: every operation, as every role, against a seeded study.

Checks: no 5xx, every status code and content type the schema documents, every body its schema.

In-process WSGI (schemathesis' from_wsgi on config.wsgi.application), not a live server: the requests run in
the test's thread on pytest-django's connection, so the fuzz shares the test's transaction (rolled back, no
flush) and the study is seeded once for the module. A live server would need committed data
(transactional_db) and a flush per test. Django's request signals close a connection that is inside a
transaction, so the test client's trick is repeated: close_old_connections is off while the fuzz runs.
"""

import contextlib
import os
import re
import secrets
import zlib
from dataclasses import dataclass

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WsgiClient

from config.wsgi import application
from crf.models import DataQuery, FormRecord
from followup.messaging.models import OutboxMessage
from followup.models import AdjudicationCase, CaseEvidence, PatientLink, Visit
from followup.services.links import patient_link_issue
from reports.models import Job
from trial.models import Participant, Screening

from .conftest import frozen_clock, load_study, open_visit
from .reports.test_dataset import seed

pytestmark = [pytest.mark.fuzz]

# The demo logins the seed creates (trial/demo/logins.py), one per role; "anonymous" sends no session.
ROLES = {
    "coordinator": "coord07",
    "investigator": "inv07",
    "principal_investigator": "pi",
    "monitor": "monitor",
    "data_manager": "datamanager",
    "adjudicator": "adjudicator",
    "superuser": "admin",
    "anonymous": None,
}
# Cases per operation and role, valid and invalid input: bounded, and the same cases on every run
# (derandomize, a seed per role, no example database). FUZZ_EXAMPLES=25 digs deeper by hand.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
NO_CREDENTIALS = r"^/api/v1/(auth/token|patient/)"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The role's session is the credential: no generated Authorization header or session cookie.
            "with-security-parameters": False,
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        # Signed out, every other operation answers 401 before it reads anything: one case each is enough.
        "operations": [{"include-path-regex": NO_CREDENTIALS, "generation": {"max-examples": EXAMPLES}}],
    }
)
# The fuzz runs at one instant just after the seed, so that visit windows and ages judge the same each day.
AT = "2026-11-21 10:00"


@dataclass
class World:
    schema: BaseSchema | None  # loaded from /api/schema/ through the app at the first test (`api_schema`)
    sessions: dict[str, dict[str, str]]  # role -> cookies
    hook: object  # the seeded study's real path values


def _ids(queryset, n: int = 3) -> list:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:n])


def _values(study, token: str) -> dict[tuple[str, str], list]:
    """Real path values of the seeded study, by (the path's first segment, the parameter's name)."""
    own = Participant.objects.filter(site__study=study, site__code="07").order_by("pk")
    other = Participant.objects.filter(site__study=study).exclude(site__code="07").order_by("pk")
    # Three at site 07 (the site staff's own) and one elsewhere (theirs to refuse).
    participants = [
        *own.values_list("study_id", flat=True)[:3],
        *other.values_list("study_id", flat=True)[:1],
    ]
    visits = sorted(set(Visit.objects.filter(participant__site__study=study).values_list("code", flat=True)))
    forms = FormRecord.objects.filter(participant__site__study=study).values_list("form_code", flat=True)
    return {
        ("studies", "code"): [study.code],
        ("participants", "study_id"): participants,
        ("participants", "code"): visits,
        ("participants", "visit_code"): visits,
        ("participants", "form_code"): sorted(set(forms)),
        ("participants", "instrument"): ["odi", "vas"],
        ("participants", "link_id"): _ids(PatientLink.objects),
        ("participants", "channel"): ["sms", "email"],
        ("participants", "step"): ["complete", "verify", "lock", "unlock"],
        ("screenings", "id"): _ids(Screening.objects),
        ("queries", "id"): _ids(DataQuery.objects),
        ("adjudication-cases", "id"): _ids(AdjudicationCase.objects),
        ("adjudication-cases", "evidence_id"): _ids(CaseEvidence.objects),
        ("adjudication", "id"): _ids(AdjudicationCase.objects),
        ("jobs", "id"): _ids(Job.objects),
        ("messages", "id"): _ids(OutboxMessage.objects),
        ("patient", "token"): [token],
    }


def _patient_link(study) -> str:
    """A live patient link (VAS, needing no licensed wording) at the M12 of the newest participant (whose M12
    the seed has not reached), its window open at AT."""
    participant = Participant.objects.filter(site__study=study, site__code="07").order_by("pk").last()
    coordinator = _user("coord07")
    with frozen_clock(AT):
        visit = open_visit(participant, code="M12", questionnaires=("vas",))
        _link, token = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")
    return token


@contextlib.contextmanager
def connections_kept():
    """Django closes a connection at each request's end when it is inside a transaction (as the test's is):
    off while the fuzz runs, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The seeded study, a signed-in session per role and the schema as served, made once for the module
    (in a transaction of the module's own, rolled back after; each test runs in a savepoint inside it)."""
    with django_db_blocker.unblock(), connections_kept():
        outer = transaction.atomic()
        outer._from_testcase = True  # as TestCase's own: the services' durable blocks nest inside it
        outer.__enter__()
        try:
            with frozen_clock("2026-11-21 09:00"):
                study = load_study("NCT06379243")
                seed(study, 30)
            sessions = {role: _session(username) if username else {} for role, username in ROLES.items()}
            hook = _real_path_parameters(_values(study, _patient_link(study)))
            yield World(schema=None, sessions=sessions, hook=hook)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _user(username: str):
    return get_user_model().objects.get(username=username)


def _session(username: str) -> dict[str, str]:
    """The cookies of a signed-in session, and a CSRF token (a session's writes need it in X-CSRFToken)."""
    client = Client()
    client.force_login(_user(username))
    session = django_settings.SESSION_COOKIE_NAME
    return {session: client.cookies[session].value, django_settings.CSRF_COOKIE_NAME: secrets.token_hex(16)}


def _real_path_parameters(values: dict[tuple[str, str], list]):
    """A hook: path parameters are either generated (mostly a 404) or real objects of the seeded study."""

    def before_generate_path_parameters(context, strategy):
        segment = context.operation.path.split("/")[3]  # /api/v1/<segment>/...
        real = {}
        for parameter in context.operation.path_parameters:
            known = values.get((segment, parameter.name))
            if not known:
                return strategy
            real[parameter.name] = st.sampled_from(known)
        return st.one_of(st.fixed_dictionaries(real), strategy) if real else strategy

    return before_generate_path_parameters


@pytest.fixture(params=list(ROLES))
def api_schema(request, world):
    """The schema, for one role (the `role` fixture reads which), with the role's own seed: each role is sent
    other cases (one seed for all would send each the same), the same ones on every run."""
    if world.schema is None:
        # The schema is served to signed-in users (config/permissions.py): loaded with a data manager's
        # session, once, within a test (as the sessions are read by test_each_role_is_signed_in_as_itself).
        client = WsgiClient(application)
        for name, value in world.sessions["data_manager"].items():
            client.set_cookie(name, value, domain="localhost")
        with connections_kept():
            served = client.get("/api/schema/", query_string={"format": "json"})
        assert served.status_code == 200, served.text
        world.schema = schemathesis.openapi.from_dict(served.json, config=CONFIG)
        world.schema.app, world.schema.location = application, "/api/schema/"  # as from_wsgi leaves them
        world.schema.hook(world.hook)
    world.schema.config.seed = zlib.crc32(request.param.encode())
    world.schema.config.generation.update(max_examples=1 if request.param == "anonymous" else EXAMPLES)
    return world.schema


@pytest.fixture
def role(request) -> str:
    return request.node.callspec.params["api_schema"]


@pytest.fixture
def no_connection_closing():
    with connections_kept():
        yield


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_is_signed_in_as_itself(role, world, no_connection_closing):
    """The fuzz's credentials work (were they refused, every answer would be a documented 401 and the fuzz
    would pass while testing nothing): each session reads as its user, signed out is a 401."""
    client = WsgiClient(application)
    for name, value in world.sessions[role].items():
        client.set_cookie(name, value, domain="localhost")
    response = client.get("/api/v1/studies/")
    if ROLES[role] is None:
        assert response.status_code == 401
    elif role == "adjudicator":  # a blinded reader reads no study (config/permissions.py), only their queue
        assert response.status_code == 403, response.text
        assert client.get("/api/v1/adjudication/queue/counts/").status_code == 200
    else:
        assert response.status_code == 200, response.text
        assert [study["code"] for study in response.json] == ["NCT06379243"]


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api(case, role, world, no_connection_closing):
    """No 5xx, and every answer as the schema documents it (status, content type, body), as the role."""
    if role != "anonymous" and re.match(NO_CREDENTIALS, case.path):
        # The endpoints that take no credentials (the token, a patient's link) answer the same whoever
        # asks: fuzzed once, by the anonymous client.
        pytest.skip("no credentials taken: fuzzed as anonymous")
    cookies = world.sessions[role]
    headers = {"X-CSRFToken": cookies[django_settings.CSRF_COOKIE_NAME]} if cookies else {}
    with frozen_clock(AT):
        response = case.call(cookies=cookies, headers=headers)
    case.validate_response(response, checks=CHECKS)
