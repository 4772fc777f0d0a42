"""trial/access.py: one rule for every write that site staff make (a coordinator or investigator role held
at that very site), refusals that say who may act, and a role model without study-wide site staff."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import translation

from crf import services as crf
from crf.models import DataQuery
from followup.models import Visit
from followup.services import links, questionnaires, visits
from trial.access import require_role_at, roles_at
from trial.errors import Forbidden
from trial.models import Role, StaffRole
from trial.services import (
    participant_enroll,
    participant_identity_update,
    participant_set_status,
    screening_create,
    screening_update,
)

from ..conftest import ELIGIBLE_ANSWERS
from ..crf.conftest import PROCEDURE
from ..factories import PASSWORD, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

SITE_STAFF = "Only the research coordinator or investigator of site 07 can"
SIGNERS = "Only the investigator or principal investigator of site 07 can"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 1, 4, tzinfo=datetime.UTC), tick=False):
        yield


# --- the role model ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR])
def test_the_database_refuses_a_study_wide_coordinator_or_investigator(study, role):
    with pytest.raises(IntegrityError, match="site_staff_role_has_a_site"), transaction.atomic():
        StaffRole.objects.create(user=UserFactory(username="roaming"), study=study, site=None, role=role)


@pytest.mark.parametrize(
    "role", [Role.MONITOR, Role.DATA_MANAGER, Role.PRINCIPAL_INVESTIGATOR, Role.ADJUDICATOR]
)
def test_the_other_roles_may_be_study_wide(study, role):
    StaffRole(user=UserFactory(username="wide"), study=study, site=None, role=role).full_clean()


def test_validation_says_why_a_site_is_needed(study):
    role = StaffRole(user=UserFactory(username="roaming"), study=study, site=None, role=Role.INVESTIGATOR)
    with pytest.raises(ValidationError) as refused:
        role.full_clean()
    assert refused.value.message_dict == {
        "site": [
            "Coordinators and investigators work at one site: choose the site. Only monitors, data managers, "
            "principal investigators and adjudicators can be study-wide."
        ]
    }
    with translation.override("zh-hans"):
        assert "研究协调员和研究者只在一个中心工作" in str(role_errors(role)["site"][0])


def role_errors(role) -> dict:
    try:
        role.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def test_the_admin_refuses_a_study_wide_coordinator_with_the_message(study, site):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    user = UserFactory(username="newcoord")
    client = Client()
    client.force_login(admin)
    form = {"user": user.pk, "study": study.pk, "site": "", "role": Role.COORDINATOR, "active": "on"}
    refused = client.post("/admin/trial/staffrole/add/", form)
    assert refused.status_code == 200
    assert "Coordinators and investigators work at one site: choose the site." in refused.content.decode()
    assert not StaffRole.objects.filter(user=user).exists()
    assert client.post("/admin/trial/staffrole/add/", form | {"site": site.pk}).status_code == 302
    assert StaffRole.objects.get(user=user).site == site


# --- one rule for every site-staff write ----------------------------------------------------------------


def _drop_the_constraint():
    """A study-wide coordinator row as only a bypassed constraint could leave (this test's transaction only):
    the rule itself must not count it either."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred check
        cursor.execute("ALTER TABLE trial_staffrole DROP CONSTRAINT IF EXISTS site_staff_role_has_a_site")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def outsiders(make_user, study, other_site):
    """Users with no site-staff role at site 07: site staff elsewhere (with the study-wide roles that do not
    enter data), study-wide site staff (a row the constraint refuses), and a superuser with no role."""
    elsewhere = make_user("elsewhere", role=Role.COORDINATOR, site=other_site)
    for role, where in [(Role.INVESTIGATOR, other_site), (Role.MONITOR, None), (Role.DATA_MANAGER, None)]:
        StaffRoleFactory(user=elsewhere, study=study, site=where, role=role)
    _drop_the_constraint()
    roaming = make_user("roaming", role=Role.COORDINATOR, study=study)
    StaffRoleFactory(user=roaming, study=study, site=None, role=Role.INVESTIGATOR)
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    superuser.first_name, superuser.last_name = "Root", "User"
    superuser.save()
    return {"elsewhere": elsewhere, "study-wide": roaming, "superuser": superuser}


@pytest.fixture
def world(study, site, coordinator, make_screening, make_participant):
    """A participant of site 07 with a form, an automatic query, a baseline visit and a patient link, and an
    eligible screening not yet enrolled."""
    participant = make_participant()
    crf.crf_save(
        actor=coordinator,
        participant=participant,
        form_code="procedure",
        data=PROCEDURE | {"operative_time": 200},  # a soft warning: an automatic query
        expected_version=None,
    )
    baseline = Visit.objects.get(participant=participant, code="BL")
    link, _token = links.patient_link_issue(
        actor=coordinator, visit=baseline, instrument="vas", language="en"
    )
    return {
        "study": study,
        "site": site,
        "screening": make_screening(),
        "participant": participant,
        "query": DataQuery.objects.get(),
        "visit": baseline,
        "link": link,
    }


DAY = datetime.date(2026, 2, 20)
# Every write that site staff make: (name, call(actor, world), what the refusal says they cannot do).
SITE_STAFF_WRITES = [
    (
        "screening",
        lambda a, w: screening_create(
            actor=a,
            study=w["study"],
            site=w["site"],
            data={
                "screening_date": DAY,
                "age": 72,
                "sex": "female",
                "fracture_levels": ["L1"],
                "answers": ELIGIBLE_ANSWERS,
            },
        ),
        "record screenings",
    ),
    (
        "screening correction",
        lambda a, w: screening_update(actor=a, screening=w["screening"], data={"age": 73}, reason="typo"),
        "correct screenings",
    ),
    (
        "enrollment",
        lambda a, w: participant_enroll(
            actor=a,
            screening=w["screening"],
            consent_date=DAY,
            enrollment_date=DAY,
            identity={"full_name": "Synthetic Person"},
        ),
        "enroll participants",
    ),
    (
        "status change",
        lambda a, w: participant_set_status(
            actor=a, participant=w["participant"], status="lost_to_follow_up", date=DAY, reason="no answer"
        ),
        "change the status of a participant",
    ),
    (
        "identity correction",
        lambda a, w: participant_identity_update(
            actor=a, participant=w["participant"], changes={"phone": "13900000000"}, reason="new phone"
        ),
        "correct identifying data",
    ),
    (
        "CRF entry",
        lambda a, w: crf.crf_save(
            actor=a, participant=w["participant"], form_code="dxa", data={}, expected_version=None
        ),
        "enter data in this form",
    ),
    (
        "CRF completion",
        lambda a, w: crf.crf_complete(actor=a, participant=w["participant"], form_code="procedure"),
        "mark this form complete",
    ),
    (
        "query answer",
        lambda a, w: crf.query_step(actor=a, query=w["query"], action="answer", text="Checked: 200 min."),
        "answer this query",
    ),
    (
        "visit done",
        lambda a, w: visits.visit_complete(actor=a, visit=w["visit"], visit_date=DAY),
        "record visits",
    ),
    (
        "visit missed",
        lambda a, w: visits.visit_miss(actor=a, visit=w["visit"], reason="no show"),
        "record visits",
    ),
    (
        "visit reopened",
        lambda a, w: visits.visit_reopen(actor=a, visit=w["visit"], reason="mistake"),
        "reopen visits",
    ),
    (
        "unscheduled visit",
        lambda a, w: visits.visit_unscheduled_create(
            actor=a, participant=w["participant"], visit_date=DAY, reason="back pain"
        ),
        "add visits",
    ),
    (
        "questionnaire entry",
        lambda a, w: questionnaires.questionnaire_save(
            actor=a,
            participant=w["participant"],
            visit=w["visit"],
            instrument="vas",
            answers={"pain": 30},
            source="paper",
            language="en",
            expected_version=None,
        ),
        "enter questionnaires",
    ),
    (
        "questionnaire start",
        lambda a, w: questionnaires.questionnaire_get_or_start(
            actor=a, participant=w["participant"], visit=w["visit"], instrument="odi", source="paper"
        ),
        "enter questionnaires",
    ),
    (
        "patient link issued",
        lambda a, w: links.patient_link_issue(actor=a, visit=w["visit"], instrument="vas", language="en"),
        "send a questionnaire link",
    ),
    (
        "patient link revoked",
        lambda a, w: links.patient_link_revoke(actor=a, link=w["link"]),
        "revoke a questionnaire link",
    ),
]


@pytest.mark.parametrize("who", ["elsewhere", "study-wide", "superuser"])
@pytest.mark.parametrize(
    ("write", "call", "action"), SITE_STAFF_WRITES, ids=[w[0] for w in SITE_STAFF_WRITES]
)
def test_every_site_staff_write_needs_a_site_staff_role_at_that_site(
    outsiders, world, who, write, call, action
):
    with pytest.raises(Forbidden) as refused:
        call(outsiders[who], world)
    assert refused.value.message == f"{SITE_STAFF} {action}.", write
    assert refused.value.status_code == 403


@pytest.mark.parametrize("who", ["elsewhere", "study-wide", "superuser"])
def test_signing_needs_an_investigator_of_the_site_or_the_principal_investigator(outsiders, world, who):
    with pytest.raises(Forbidden) as refused:
        crf.crf_sign(
            actor=outsiders[who],
            participant=world["participant"],
            form_code="procedure",
            username=outsiders[who].username,
            password=PASSWORD,
            meaning="approval",
            expected_version=1,
        )
    assert refused.value.message == f"{SIGNERS} sign this form."


def test_a_study_wide_site_staff_row_counts_nowhere_but_study_wide_roles_do(
    outsiders, site, make_user, study
):
    assert roles_at(outsiders["study-wide"], site) == set()
    assert roles_at(outsiders["elsewhere"], site) == {Role.MONITOR, Role.DATA_MANAGER}
    pi = make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study)
    require_role_at(pi, site, crf.SIGNING_ROLES, "sign this form")  # the PI signs at every site


def test_the_refusal_speaks_the_user_s_language(outsiders, world):
    with translation.override("zh-hans"), pytest.raises(Forbidden) as refused:
        crf.crf_save(
            actor=outsiders["elsewhere"],
            participant=world["participant"],
            form_code="dxa",
            data={},
            expected_version=None,
        )
    assert refused.value.message == "只有 07 中心的研究协调员或研究者可以在此表单中录入数据。"


def test_the_api_answers_the_refusal_with_403_and_the_message(outsiders, world):
    from ..conftest import client_for

    answered = client_for(outsiders["elsewhere"]).post(
        f"/api/v1/queries/{world['query'].pk}/answer/", {"text": "Checked."}, format="json"
    )
    assert answered.status_code == 403
    assert answered.json()["detail"] == f"{SITE_STAFF} answer this query."
