"""followup_seed: the follow-up of a study's demo participants, read, planned and written in chunks, then
their adjudication cases, read by the study's adjudicators."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q

from crf.models import FormRecord, FormStatus
from trial.audit import audit_context
from trial.clock import site_today
from trial.demo import DEMO_COMMAND, DEMO_REASON, demo_inserted, demo_staff
from trial.models import Participant, Role, StaffRole, Study

from ..models import CaseAssignment, Visit
from .course import followup_plan
from .plan import Followed, Plan
from .predictors import refracture_predictors
from .reading import Reader, Reading, reading_plan
from .writer import adjudication_write, followup_write

PREDICTOR_FORMS = ("baseline", "dxa", "fracture_levels", "qmri", "procedure")
CHUNK_SIZE = 2000  # participants per round: their forms (about 2 kB each) and plans stay a few MB in memory


@dataclass
class FollowupSeedResult:
    participants: int = 0
    visits: Counter = field(default_factory=Counter)
    responses: int = 0
    mris: int = 0
    cases: Counter = field(default_factory=Counter)  # by status
    verdicts: int = 0

    def add(self, plan: Plan) -> None:
        self.visits.update(row["state"] for row in plan.visits)
        self.responses += len(plan.responses)
        self.mris += len(plan.mris)

    def read(self, readings: list[Reading]) -> None:
        self.cases.update(reading.status for reading in readings)
        self.verdicts += sum(len(reading.verdicts) for reading in readings)


def _followed(participants) -> list[Followed]:
    rows = list(
        participants.values(
            "pk",
            "study_id",
            "site__code",
            "site__time_zone",
            "screening__age",
            "screening__sex",
            "screening__protocol_version__definition",
            "enrollment_date",
            "status",
            "status_date",
        ).order_by("pk")
    )
    # The forms the true re-fracture model's predictors come from (predictors.py), as the database holds
    # them: the fracture draw uses what the analysis dataset will read.
    forms: dict[tuple[int, str], tuple[str, dict]] = {
        (pk, code): (status, data)
        for pk, code, status, data in FormRecord.objects.filter(
            participant__in=[row["pk"] for row in rows],
            visit_code="",
            form_code__in=PREDICTOR_FORMS,
        ).values_list("participant_id", "form_code", "status", "data")
    }
    followed = []
    for row in rows:
        status, procedure = forms.get((row["pk"], "procedure"), ("", {}))
        definition = row["screening__protocol_version__definition"]
        procedure_date = None
        if status and status != FormStatus.DRAFT and procedure.get("procedure_date"):
            procedure_date = datetime.date.fromisoformat(procedure["procedure_date"])
        followed.append(
            Followed(
                key=row["pk"],
                study_id=row["study_id"],
                site=row["site__code"],
                time_zone=row["site__time_zone"],
                age=row["screening__age"],
                sex=row["screening__sex"],
                enrollment_date=row["enrollment_date"],
                status=row["status"],
                status_date=row["status_date"],
                visits=definition.get("visits") or {},
                horizon_days=(definition.get("endpoint") or {}).get("horizon_days"),
                procedure_date=procedure_date,
                treated=tuple(
                    level["level"] for level in procedure.get("levels") or () if level.get("level")
                ),
                predictors=refracture_predictors(
                    age=row["screening__age"],
                    sex=row["screening__sex"],
                    forms={code: forms.get((row["pk"], code), (None, None))[1] for code in PREDICTOR_FORMS},
                ),
            )
        )
    return followed


def _readers(study: Study) -> list[Reader]:
    """The study's active adjudicators, with the sites where they hold a role (two queries)."""
    adjudicators = StaffRole.objects.filter(study=study, role=Role.ADJUDICATOR, active=True).values("user_id")
    sites: dict[int, set[str]] = {}
    for user_id, code in StaffRole.objects.filter(
        user__in=adjudicators, active=True, site__isnull=False
    ).values_list("user_id", "site__code"):
        sites.setdefault(user_id, set()).add(code)
    return [
        Reader(
            user.pk, user.get_full_name().strip() or user.get_username(), frozenset(sites.get(user.pk, ()))
        )
        for user in get_user_model().objects.filter(pk__in=adjudicators, is_active=True).order_by("pk")
    ]


def _loads() -> dict[int, tuple[int, int]]:
    """Each reader's active and all assignments so far, {user id: (active, ever)} (one query)."""
    return {
        row["reader_id"]: (row["active"], row["ever"])
        for row in CaseAssignment.objects.values("reader_id")
        .annotate(active=Count("id", filter=Q(active=True)), ever=Count("id"))
        .order_by()
    }


def followup_seed(*, study: Study, seed: int, today: datetime.date | None = None) -> FollowupSeedResult:
    """Fill the follow-up of the study's demo participants that have no visit yet; a second run adds nothing.

    Atomic and durable so that a failed seed leaves nothing behind; the study row is locked so that two
    seeders cannot plan the same participants. Only participants seed_demo created (audit trail) are seeded.
    """
    with transaction.atomic(durable=True), audit_context(reason=DEMO_REASON, command=DEMO_COMMAND):
        study = Study.objects.select_for_update(of=("self",)).get(pk=study.pk)
        pending = Participant.objects.filter(
            demo_inserted(),
            ~Exists(Visit.objects.filter(participant=OuterRef("pk"))),
            site__study=study,
        )
        result = FollowupSeedResult()
        keys = list(pending.order_by("pk").values_list("pk", flat=True))
        if not keys:
            return result
        sites = list(study.sites.order_by("code"))
        staff = demo_staff(study, sites)
        users = {key: user.pk for key, user in staff.items()}
        today = today or min(site_today(site) for site in sites)
        cases, evidence, reported = [], [], []
        for start in range(0, len(keys), CHUNK_SIZE):
            chunk = _followed(Participant.objects.filter(pk__in=keys[start : start + CHUNK_SIZE]))
            plans = [followup_plan(person, seed=seed, today=today) for person in chunk]
            written = followup_write(plans, users=users, sites={person.key: person.site for person in chunk})
            cases += written[0]
            evidence += written[1]
            result.participants += len(chunk)
            for plan in plans:
                result.add(plan)
                reported += plan.reported
        # The run's cases are read together (a few rows a case, kept across the chunks): their readers are
        # given in the order the cases went to review, each to the least loaded, whichever chunk it is in.
        readings = reading_plan(reported, readers=_readers(study), loads=_loads(), seed=seed, today=today)
        adjudication_write(cases, evidence, readings)
        result.read(readings)
        return result
