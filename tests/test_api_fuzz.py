"""schemathesis over /api/schema/: every operation, as every role's knox token and signed out, against a
seeded study, with every check of schemathesis that applies: the schema is what the server does.

Phases: coverage (each parameter's and body's boundary and wrong values, undeclared methods, missing required
headers), fuzzing (EXAMPLES generated cases per operation and role), and stateful: the OpenAPI links of the
schema (trial/apis/schema.py, `main_flow_links`) chained screen → enroll → save a form → complete it.
Fixed seeds, no example database: the same cases on every run. FUZZ_EXAMPLES=25 digs deeper by hand;
`make bench` (BENCH_PARTS=fuzz) runs a longer bounded fuzz.

In-process WSGI (the schema's app is config.wsgi.application), not a live server: the requests run in the
test's thread on pytest-django's connection, so the fuzz shares the test's transaction (rolled back, no
flush) and the study is seeded once for the module (tests/fuzz_world.py).
"""

import os
import re
import zlib
from collections import Counter
from dataclasses import dataclass

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi import checks as st_checks
from werkzeug.test import Client as WsgiClient

from config.wsgi import application

from .conftest import frozen_clock, load_study
from .fuzz_world import (
    AT,
    ROLES,
    SEEDED_AT,
    connections_kept,
    flow_bodies,
    path_values,
    patient_link,
    real_values_hook,
    request_savepoint,
    token_for,
)
from .reports.test_dataset import seed

pytestmark = [pytest.mark.fuzz]

# One generated case an operation and role in make test (its 15 minutes), 25 in make bench.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))
# The coverage phase sends every boundary of every parameter: hundreds of cases per operation, whatever
# EXAMPLES says. The server validates input the same way whoever asks (a role it refuses is refused before
# the input is read), and it costs minutes: make bench's fuzz part runs it for every role
# (FUZZ_COVERAGE_ROLES=all); make test keeps to the generated cases (FUZZ_COVERAGE_ROLES=coordinator adds it).
COVERAGE_ROLES = [role for role in os.environ.get("FUZZ_COVERAGE_ROLES", "").split(",") if role]
NO_CREDENTIALS = r"^/api/v1/(auth/token/|patient/)"
# Logout ends the token the fuzz signs in with (logout-all: every token of the user): a token of its own each.
LOGOUT = r"^/api/v1/auth/logout"
# Every check of schemathesis that applies to one identity at a time (object_level_authorization compares
# several identities in one run, which the per-role runs do not do; max_response_time has no limit set).
CHECKS = [
    not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
    st_checks.negative_data_rejection,
    st_checks.positive_data_acceptance,
    st_checks.missing_required_header,
    st_checks.unsupported_method,
    st_checks.allow_header_conformance,
    st_checks.ignored_auth,
    st_checks.use_after_free,
    st_checks.ensure_resource_availability,
]
# Answers that valid input gets for the state of the record, not its shape (schemathesis allows 409 already):
# 410, a patient link that is used, expired or revoked; 428, a change to a form or questionnaire that exists
# without If-Match (a first save takes none, so OpenAPI cannot call the header required).
STATE_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "410", "428", "429"]
# Operations whose valid-looking input the server refuses with a 400 naming the field for a rule OpenAPI
# cannot state: it depends on the protocol at hand, on stored records, on the clock or on a file's content
# (issue 16 allows this when the description says so). Each is listed with its rule and why no schema says
# it; everything else must accept schema-valid input. The lists are not here: a site or study code the role
# cannot see, or a case status site staff may not filter by, is a 403 (trial.filters.NOT_VISIBLE).
FORM_OPERATIONS = r"^/api/v1/participants/\{study_id\}/(visits/\{visit_code\}/)?forms/\{form_code\}/"
RULE_BOUND = [
    # A participant's forms are their protocol version's, a visit collects the forms its schedule names, and
    # a visit's form is opened from its visit: the path's enum lists every shipped protocol's forms, and
    # OpenAPI ties no value of one path parameter to another's (study_id, visit_code). A form's data holds
    # that form's fields (one body schema per form code: OpenAPI ties no body schema to a path value); it
    # completes when its stored data passes the form's checks. Its history reads none of these: not listed.
    (None, FORM_OPERATIONS + r"(\{step\}/|sign/)?$"),
    # Likewise a visit's questionnaire: a visit collects the instruments its schedule names (the path's enum
    # lists every instrument; visit_code and instrument are two path values OpenAPI cannot tie).
    (None, r"^/api/v1/participants/\{study_id\}/visits/\{visit_code\}/questionnaires/\{instrument\}/$"),
    # A status change is dated on or after the participant's last one: a bound from a stored record, where a
    # schema's date has none at all.
    ("POST", r"^/api/v1/participants/\{study_id\}/(withdraw|died|lost-to-follow-up)/$"),
    # A study the user can see (one schema serves every user), dates from the study's opening (the
    # protocol's) to today at the site (the clock): a format: date takes no bounds.
    ("POST", r"^/api/v1/screenings/$"),
    # The protocol's design: a consent date is required by a prospective study and refused by a retrospective
    # one; a group is one of the protocol's groups, or none when it declares none. Which applies is the
    # screened study's, a stored record the path's id names: no schema can branch on it.
    ("POST", r"^/api/v1/screenings/\{id\}/enroll/$"),
    # Credentials that sign no one in (a password is right or wrong, not shaped); answers of the instrument
    # the patient's link is for (the token is opaque: no schema per instrument can hang on it); an eligible
    # reader (a user id of an adjudicator not on the case: stored users and roles).
    ("POST", r"^/api/v1/auth/token/$"),
    ("PUT", r"^/api/v1/patient/\{token\}/$"),
    ("POST", r"^/api/v1/adjudication-cases/\{id\}/reassign/$"),
    # A CSV of model outputs names the study's own participants and their registered levels, each value in
    # range, every row once (reports/indextests/csvfile.py): a 400 under `csv`, each line with its problem.
    # A file's lines are content OpenAPI does not describe (a string, format: binary).
    ("POST", r"^/api/v1/studies/\{code\}/model-imports/$"),
    # Imaging exams: the files must be DICOM headers of an exam (a study not yet registered, not dated in
    # the future); generated bytes are not (trial/apis/imaging.py). A binary's content has no schema.
    ("POST", r"^/api/v1/screenings/\{id\}/exams/$"),
    # A heatmap must be a PNG or JPEG image (judged by its bytes); generated bytes are not. Likewise.
    ("POST", r"^/api/v1/model-outputs/\{id\}/heatmap/$"),
]
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The role's token is the credential: no generated Authorization header or session cookie.
            "with-security-parameters": False,
        },
        "checks": {"positive_data_acceptance": {"expected-statuses": STATE_ANSWERS}},
        "operations": [
            {
                "include-path-regex": path,
                **({"include-method": method} if method else {}),
                "checks": {"positive_data_acceptance": {"expected-statuses": [*STATE_ANSWERS, "400"]}},
            }
            for method, path in RULE_BOUND
        ],
        # Stateful: the schema's own links only (schemathesis' inferred ones would spread a bounded run thin).
        "phases": {
            "examples": {"enabled": False},
            # Undeclared methods: three writes and TRACE (the default also sends GET, PUT, OPTIONS and QUERY
            # to each operation: the same 405 from the same dispatch, at twice the cost).
            "coverage": {"unexpected-methods": ["post", "delete", "patch", "trace"]},
            "stateful": {"inference": {"algorithms": []}},
        },
    }
)


@dataclass
class World:
    schema: BaseSchema | None  # loaded from /api/schema/ through the app at the first test (`api_schema`)
    tokens: dict[str, str]  # role -> knox token ("" signed out)
    hooks: tuple  # the seeded study's real path values and the main flow's bodies
    bodies: dict  # the main flow's bodies that pass its rules, by (method, path); "form_code": its form


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The seeded study, a token per role and the schema as served, made once for the module (in a
    transaction of the module's own, rolled back after; each test runs in a savepoint inside it)."""
    with django_db_blocker.unblock(), connections_kept():
        outer = transaction.atomic()
        outer._from_testcase = True  # as TestCase's own: the services' durable blocks nest inside it
        outer.__enter__()
        try:
            with frozen_clock(SEEDED_AT):
                study = load_study("NCT06379243")
                seed(study, 30)
            with frozen_clock(AT):
                tokens = {role: token_for(username) if username else "" for role, username in ROLES.items()}
            bodies = flow_bodies(study)
            hooks = real_values_hook(path_values(study, patient_link(study)), bodies)
            yield World(schema=None, tokens=tokens, hooks=hooks, bodies=bodies)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def served_schema(world: World, config: SchemathesisConfig = CONFIG) -> BaseSchema:
    """The schema as the app serves it (to a signed-in user: config/permissions.py), loaded once."""
    if world.schema is None:
        client = WsgiClient(application)
        with connections_kept(), frozen_clock(AT):
            served = client.get(
                "/api/schema/",
                query_string={"format": "json"},
                headers={"Authorization": f"Token {world.tokens['data_manager']}"},
            )
        assert served.status_code == 200, served.text
        world.schema = schemathesis.openapi.from_dict(served.json, config=config)
        world.schema.app, world.schema.location = application, "/api/schema/"  # as from_wsgi leaves them
        for hook in world.hooks:
            world.schema.hook(hook)
    return world.schema


@pytest.fixture(params=list(ROLES))
def api_schema(request, world):
    """The schema, for one role (the `role` fixture reads which), with the role's own seed: each role is sent
    other cases (one seed for all would send each the same), the same ones on every run."""
    role = request.param
    schema = served_schema(world)
    schema.config.seed = zlib.crc32(role.encode())
    # Signed out, every operation but the public ones answers 401 before it reads anything: one case each.
    schema.config.generation.update(max_examples=1 if role == "anonymous" else EXAMPLES)
    schema.config.phases.coverage.enabled = "all" in COVERAGE_ROLES or role in COVERAGE_ROLES
    return schema


@pytest.fixture
def role(request) -> str:
    return request.node.callspec.params["api_schema"]


@pytest.fixture
def untraced():
    """Line coverage paused while the fuzz runs (make coverage measures it, pytest-cov): the fuzz checks
    that the schema is what the server does, case by case; tracing its thousands of requests cost a third of
    the fuzz's time, for lines the other tests already cover."""
    import coverage

    tracer = coverage.Coverage.current()
    if tracer is None:
        yield
        return
    tracer.stop()
    try:
        yield
    finally:
        tracer.start()


@pytest.fixture
def no_connection_closing():
    with connections_kept():
        yield


def credentials(world: World, role: str, path: str) -> dict[str, str]:
    """The role's Authorization header; a fresh token for a logout (which ends the token it is sent with)."""
    if not ROLES[role]:
        return {}
    token = token_for(ROLES[role]) if re.match(LOGOUT, path) else world.tokens[role]
    return {"Authorization": f"Token {token}"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_has_its_own_token(role, world, no_connection_closing):
    """The fuzz's credentials work (were they refused, every answer would be a documented 401 and the fuzz
    would pass while testing nothing): each token reads as its user, signed out is a 401."""
    client = WsgiClient(application)
    headers = credentials(world, role, "/api/v1/studies/")
    with frozen_clock(AT):  # the tokens were issued then, and live API_TOKEN_HOURS
        response = client.get("/api/v1/studies/", headers=headers)
        queue = client.get("/api/v1/adjudication/queue/counts/", headers=headers)
    if ROLES[role] is None:
        assert response.status_code == 401
    elif role == "adjudicator":  # a blinded reader reads no study (config/permissions.py), only their queue
        assert response.status_code == 403, response.text
        assert queue.status_code == 200
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
def test_api(case, role, world, no_connection_closing, untraced):
    """Every check, as the role: no 5xx, every answer as documented (status, content type, headers, body),
    bad input refused and good input accepted, undeclared methods 405, missing credentials refused."""
    if role != "anonymous" and re.match(NO_CREDENTIALS, case.path):
        # The endpoints that take no credentials (the token, a patient's link) answer the same whoever
        # asks: fuzzed once, by the anonymous client.
        pytest.skip("no credentials taken: fuzzed as anonymous")
    with frozen_clock(AT), request_savepoint(keep=False):
        case.call_and_validate(headers=credentials(world, role, case.path), checks=CHECKS)


# The stateful phase: scenarios of up to STEPS calls along the schema's links, as the coordinator (who
# screens, enrolls, enters and completes forms at site 07), each step's writes kept for the next.
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "25"))
STEPS = 12
# The operations the main flow's links join (trial/apis/schema.py, MAIN_FLOW_LINKS); the rest of the API is
# fuzzed case by case above.
FLOW = r"^/api/v1/(screenings/|participants/\{study_id\}/$|participants/\{study_id\}/forms/)"


def _pointer(document, pointer: str):
    for key in pointer.lstrip("/").split("/"):
        document = document[int(key) if isinstance(document, list) else key]
    return document


def _resolve(expression, request_path: dict, response) -> object:
    """An OpenAPI link's runtime expression, read from the answer it starts from (or a constant)."""
    if not isinstance(expression, str) or not expression.startswith("$"):
        return expression
    if expression.startswith("$response.body#"):
        return _pointer(response.json, expression.removeprefix("$response.body#"))
    if expression.startswith("$response.header."):
        return response.headers[expression.removeprefix("$response.header.")]
    if expression.startswith("$request.path."):
        return request_path[expression.removeprefix("$request.path.")]
    raise AssertionError(f"an expression this walk does not read: {expression}")


@pytest.mark.django_db
def test_the_schemas_links_lead_through_the_main_flow(world, no_connection_closing):
    """Following the served schema's links as OpenAPI reads them, a coordinator screens, enrolls, saves a
    form and completes it (If-Match from the save's ETag): the links name real operations and values."""
    raw = served_schema(world).raw_schema
    operations = {op["operationId"]: (m, p) for p, ops in raw["paths"].items() for m, op in ops.items()}
    client = WsgiClient(application)
    token = {"Authorization": f"Token {world.tokens['coordinator']}"}
    method, path, values = "post", "/api/v1/screenings/", {}
    answers = []
    with frozen_clock(AT), request_savepoint(keep=False):
        for link in ("EnrollScreened", "SaveForm", "CompleteForm", "ReadCompletedForm", None):
            params = {"form_code": world.bodies["form_code"], **values}  # the flow picks the form
            headers = {k.removeprefix("header."): v for k, v in values.items() if k.startswith("header.")}
            response = client.open(
                path.format(**params),
                method=method.upper(),
                headers={**token, **headers},
                json=world.bodies.get((method.upper(), path)),
            )
            answers.append((method.upper(), path, response.status_code))
            assert 200 <= response.status_code < 300, (answers, response.text)
            if link is None:
                break
            target = raw["paths"][path][method]["responses"][str(response.status_code)]["links"][link]
            values = {name: _resolve(value, params, response) for name, value in target["parameters"].items()}
            method, path = operations[target["operationId"]]
    assert [answer[0] for answer in answers] == ["POST", "POST", "PUT", "POST", "GET"]
    assert response.json["status"] == "complete"


FORM_STEP = "/api/v1/participants/{study_id}/forms/{form_code}/{step}/"


@pytest.mark.django_db
def test_stateful(world, no_connection_closing, untraced):
    """schemathesis' stateful phase along the links, as the coordinator, with every check: scenarios of
    screen → enroll → save a form → complete it (and reads between), where each answer feeds the next."""
    flow = served_schema(world).include(path_regex=FLOW)
    reached = []
    headers = credentials(world, "coordinator", "/api/v1/screenings/")

    class MainFlow(flow.as_state_machine()):
        # Each scenario starts from the seeded study (Hypothesis replays a scenario: the same state, the same
        # answers); its steps' writes are kept for its next steps.
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)
            super().teardown()

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def call(self, case, **kwargs):
            with frozen_clock(AT), request_savepoint(keep=True):
                response = case.call(**kwargs)
            reached.append((case.method.upper(), case.operation.path, response.status_code))
            return response

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers, recorder=self.recorder)

    with connections_kept():
        MainFlow.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
        )
    # The fuzz went along the links to the last step at least once (else it tested the first steps alone):
    # someone enrolled, and a form step asked. Whether that step completes depends on the generated values
    # and on the ids earlier tests used (a 409 for a form still invalid is a right answer); the way through
    # to a completed form is walked deterministically by test_the_schemas_links_lead_through_the_main_flow.
    enrolled = ("POST", "/api/v1/screenings/{id}/enroll/", 201)
    stepped = {(m, p) for m, p, _status in reached} & {("POST", FORM_STEP)}
    assert enrolled in reached and stepped, Counter(reached)
