"""The seeded study the API fuzz (tests/test_api_fuzz.py) runs against: a knox token per role, the study's
real path values, and the bodies that carry the main flow (screen → enroll → form → complete) past its rules.

Everything here is read or made through the app itself (the token endpoint, the services), in the fuzz's
module transaction.
"""

import contextlib
import datetime

from django.core import signals
from django.db import close_old_connections, connection, transaction
from django.test import override_settings
from hypothesis import strategies as st
from psycopg.pq import TransactionStatus
from werkzeug.test import Client as WsgiClient

from config.wsgi import application
from crf.models import DataQuery, FormRecord, FormStatus
from followup.messaging.models import OutboxMessage
from followup.models import AdjudicationCase, CaseAssignment, CaseEvidence, PatientLink, Visit
from followup.services.links import patient_link_issue
from reports.models import Job
from trial.demo.logins import DEMO_PASSWORD
from trial.models import Participant, Screening

from .conftest import ELIGIBLE_ANSWERS, frozen_clock, open_visit

# The demo logins the seed creates (trial/demo/logins.py), one per role; "anonymous" sends no credentials.
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
# The fuzz runs at one instant just after the seed, so that visit windows and ages judge the same each day.
AT = "2026-11-21 10:00"
SEEDED_AT = "2026-11-21 09:00"
TODAY = datetime.date(2026, 11, 21)
FORM = "/api/v1/participants/{study_id}/forms/{form_code}/"


_kept = [0]  # how deep connections_kept is nested: only the outermost one reconnects the signals


@contextlib.contextmanager
def connections_kept():
    """Django closes a connection at each request's end when it is inside a transaction (as the test's is):
    off while the fuzz runs, as Django's test client does. Re-entrant (a token is asked for mid-fuzz)."""
    if not _kept[0]:
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
    _kept[0] += 1
    try:
        yield
    finally:
        _kept[0] -= 1
        if not _kept[0]:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


@contextlib.contextmanager
def request_savepoint(*, keep: bool):
    """A request of the fuzz in a savepoint of the module's transaction, rolled back unless `keep` (the
    stateful phase keeps each step's writes for the next). Rolled back too when the request left the
    transaction aborted: a statement PostgreSQL refused (a NUL byte, a value too long) answers a 400, and
    with gunicorn's autocommit the next request starts afresh; inside one transaction it would not."""
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        aborted = connection.connection.info.transaction_status == TransactionStatus.INERROR
        if keep and not aborted:
            transaction.savepoint_commit(savepoint)
        else:
            transaction.savepoint_rollback(savepoint)


def token_for(username: str) -> str:
    """A knox token of `username` from POST /api/v1/auth/token/ with the demo password, as clients get it."""
    client = WsgiClient(application)
    # Off as for the whole suite (tests/conftest.py), whose fixture is not yet on for a module's fixtures.
    with connections_kept(), override_settings(TWO_FACTOR_REQUIRED=False):
        answer = client.post("/api/v1/auth/token/", json={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json["token"]


def _ids(queryset, n: int = 3) -> list:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:n])


def path_values(study, token: str) -> dict[tuple[str, str], list]:
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
        # A reader's URLs name the case by their reading code (followup/reading_codes.py), never its number.
        ("adjudication", "reading_code"): list(
            CaseAssignment.objects.order_by("pk").values_list("reading_code", flat=True)[:3]
        ),
        ("jobs", "id"): _ids(Job.objects),
        ("messages", "id"): _ids(OutboxMessage.objects),
        ("patient", "token"): [token],
    }


def patient_link(study) -> str:
    """A live patient link (VAS, needing no licensed wording) at the M12 of the newest participant (whose M12
    the seed has not reached), its window open at AT."""
    from django.contrib.auth import get_user_model

    participant = Participant.objects.filter(site__study=study, site__code="07").order_by("pk").last()
    coordinator = get_user_model().objects.get(username="coord07")
    with frozen_clock(AT):
        visit = open_visit(participant, code="M12", questionnaires=("vas",))
        _link, token = patient_link_issue(actor=coordinator, visit=visit, instrument="vas", language="en")
    return token


def flow_bodies(study) -> dict[tuple[str, str], dict]:
    """Bodies that pass the main flow's rules, by (method, path): an eligible screening at site 07, its
    enrollment, and the data of a form (copied from a seeded record that is complete, so that it completes).
    Generated bodies almost never pass them: without these the stateful phase would stop at the first 400."""
    record = (
        FormRecord.objects.filter(participant__site__study=study, visit_code="", status=FormStatus.COMPLETE)
        .order_by("form_code", "pk")
        .first()
    )
    screening = {
        "study": study.code,
        "site": "07",
        "screening_date": TODAY.isoformat(),
        "age": 72,
        "sex": "female",
        "fracture_levels": ["L1"],
        "answers": ELIGIBLE_ANSWERS,
    }
    enrollment = {
        "consent_date": TODAY.isoformat(),
        "enrollment_date": TODAY.isoformat(),
        "identity": {"full_name": "Fuzz Patient", "contact_language": "en"},
    }
    return {
        ("POST", "/api/v1/screenings/"): screening,
        ("POST", "/api/v1/screenings/{id}/enroll/"): enrollment,
        ("PUT", FORM): {"data": record.data},
        "form_code": record.form_code,
    }


def real_values_hook(values: dict[tuple[str, str], list], bodies: dict):
    """Hooks: path parameters are either generated (mostly a 404) or real objects of the seeded study; the
    main flow's bodies are either generated or ones that pass its rules (`flow_bodies`)."""

    def before_generate_path_parameters(context, strategy):
        segment = context.operation.path.split("/")[3]  # /api/v1/<segment>/...
        real = {}
        for parameter in context.operation.path_parameters:
            known = values.get((segment, parameter.name))
            if not known:
                return strategy
            real[parameter.name] = st.sampled_from(known)
        return st.one_of(st.fixed_dictionaries(real), strategy) if real else strategy

    def before_generate_body(context, strategy):
        body = bodies.get((context.operation.method.upper(), context.operation.path))
        # Three times in four: a bounded stateful run then reaches the end of the flow in a few scenarios.
        if body is None:
            return strategy
        return st.one_of(st.just(body), st.just(body), st.just(body), strategy)

    form = bodies[("PUT", FORM)]

    def map_case(context, case):
        if case.body != bodies.get((case.operation.method.upper(), case.operation.path)):
            return case
        # As JSON: the flow's bodies nest objects, which a form encoding cannot carry.
        case.media_type = "application/json"
        if case.body == form:
            # The form's data goes to its own form (the path's form code is drawn apart from the body).
            case.path_parameters = {**(case.path_parameters or {}), "form_code": bodies["form_code"]}
        return case

    return before_generate_path_parameters, before_generate_body, map_case
