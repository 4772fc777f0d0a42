"""schemathesis over /api/schema/: every operation, as every role, against a seeded study.

Checks: no 5xx, every status code and content type the schema documents, every body its schema.

In-process WSGI (schemathesis' from_wsgi on config.wsgi.application), not a live server: the requests run in
the test's thread on pytest-django's connection, so the fuzz shares the test's transaction (rolled back, no
flush) and the study is seeded once for the module. A live server would need committed data
(transactional_db) and a flush per test. Django's request signals close a connection that is inside a
transaction, so the test client's trick is repeated: close_old_connections is off while the fuzz runs.
"""

import datetime
import secrets
from dataclasses import dataclass

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from crf.models import DataQuery, FormRecord
from followup.models import AdjudicationCase, Visit
from reports.models import Job
from trial.models import Participant, Screening

from .conftest import frozen_clock, load_study
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
# Per operation and role: bounded, and the same cases on every run (derandomize, no example database).
EXAMPLES = 4
CHECKS = [not_a_server_error, response_schema_conformance]  # TEMP
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
    }
)
# The fuzz runs at one instant just after the seed, so that visit windows and ages judge the same each day.
AT = "2026-11-21 10:00"


@dataclass
class World:
    values: dict[str, list]  # path parameter name -> real values (a few), by kind of id
    sessions: dict[str, dict[str, str]]  # role -> cookies


def _values(study) -> dict[str, list]:
    participants = Participant.objects.filter(site__study=study).order_by("pk").values_list("study_id", flat=True)
    return {
        "code": [study.code],
        "study_id": list(participants[:3]),
        "form_code": list(
            FormRecord.objects.filter(participant__site__study=study).values_list("form_code", flat=True).distinct()
        )[:4],
        "visit_code": ["M12", "M3"],
        "screening": list(Screening.objects.order_by("pk").values_list("pk", flat=True)[:3]),
        "query": list(DataQuery.objects.order_by("pk").values_list("pk", flat=True)[:3]),
        "case": list(AdjudicationCase.objects.order_by("pk").values_list("pk", flat=True)[:3]),
        "job": list(Job.objects.order_by("pk").values_list("pk", flat=True)[:3]),
        "visit": list(Visit.objects.order_by("pk").values_list("code", flat=True).distinct()[:3]),
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The seeded study and a signed-in session per role, made once for the module and rolled back after."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as TestCase's own: the services' durable blocks nest inside it
        outer.__enter__()
        with frozen_clock("2026-11-21 09:00"):
            study = load_study("NCT06379243")
            seed(study, 30)
        sessions = {}
        for role, username in ROLES.items():
            if username is None:
                sessions[role] = {}
                continue
            client = Client()
            client.force_login(_user(username))
            csrf = secrets.token_hex(16)
            sessions[role] = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
        yield World(values=_values(study), sessions=sessions)
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


# Which real values a path parameter takes, by the path's first segment when the name alone is ambiguous.
ID_KINDS = {"screenings": "screening", "queries": "query", "adjudication-cases": "case", "adjudication": "case",
            "jobs": "job"}  # fmt: skip


def _real_path_parameters(values: dict[str, list]):
    """A hook: path parameters are either generated (mostly a 404) or real objects of the seeded study."""

    def before_generate_path_parameters(context, strategy):
        path = context.operation.path
        names = [p.name for p in context.operation.path_parameters]
        real = {}
        for name in names:
            kind = ID_KINDS.get(path.split("/")[3], "") if name == "id" else name
            if not values.get(kind):
                return strategy
            real[name] = st.sampled_from(values[kind])
        return st.one_of(st.fixed_dictionaries(real), strategy) if real else strategy

    return before_generate_path_parameters


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


@pytest.fixture(params=list(ROLES))
def api_schema(request, world, no_connection_closing):
    """The schema as served; one test per role (the `role` fixture reads which)."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)
    schema.hook(_real_path_parameters(world.values))
    return schema


@pytest.fixture
def role(request) -> str:
    return request.node.callspec.params["api_schema"]


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def no_connection_closing():
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api(case, role, world, no_connection_closing, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    """As the role: its session cookie, and the CSRF token that a session's writes need."""
    cookies = world.sessions[role]
    headers = {"X-CSRFToken": cookies["csrftoken"]} if cookies else {}
    with frozen_clock(AT):
        response = case.call(cookies=cookies, headers=headers)
    case.validate_response(response, checks=CHECKS)


_ = (st, datetime)
