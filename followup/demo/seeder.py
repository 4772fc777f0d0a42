"""followup_seed: the follow-up of a study's demo participants, read, planned and written in chunks."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef

from crf.models import FormRecord, FormStatus
from trial.audit import audit_context
from trial.clock import site_today
from trial.demo import DEMO_COMMAND, DEMO_REASON, demo_inserted, demo_staff
from trial.models import Participant, Study

from ..models import Visit
from .course import followup_plan
from .plan import Followed, Plan
from .rates import ANTI_OSTEOPOROSIS
from .writer import followup_write

CHUNK_SIZE = 2000  # participants per round: their forms (about 2 kB each) and plans stay a few MB in memory


@dataclass
class FollowupSeedResult:
    participants: int = 0
    visits: Counter = field(default_factory=Counter)
    responses: int = 0
    mris: int = 0
    cases: int = 0

    def add(self, plan: Plan) -> None:
        self.visits.update(row["state"] for row in plan.visits)
        self.responses += len(plan.responses)
        self.mris += len(plan.mris)
        self.cases += len(plan.cases)


def _risk(person_row: dict, baseline: dict, procedure: dict) -> dict:
    treatment = set(baseline.get("current_treatment") or ()) | set(baseline.get("prior_treatment") or ())
    return {
        "female": int(person_row["screening__sex"] == "F"),
        "per_year_over_70": max(0, (person_row["screening__age"] or 70) - 70),
        "leakage": int(any(level.get("leakage") for level in procedure.get("levels") or ())),
        "prior_fracture": int(bool(baseline.get("prior_fracture"))),
        "glucocorticoids": int(bool(baseline.get("glucocorticoids"))),
        "diabetes": int(bool(baseline.get("diabetes"))),
        "smoking": int(baseline.get("smoking") == "current"),
        "anti_osteoporosis": int(bool(treatment & ANTI_OSTEOPOROSIS)),
        "extra_level": max(0, len(procedure.get("levels") or ()) - 1),
    }


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
    forms: dict[tuple[int, str], tuple[str, dict]] = {
        (pk, code): (status, data)
        for pk, code, status, data in FormRecord.objects.filter(
            participant__in=[row["pk"] for row in rows],
            visit_code="",
            form_code__in=("baseline", "procedure"),
        ).values_list("participant_id", "form_code", "status", "data")
    }
    followed = []
    for row in rows:
        status, procedure = forms.get((row["pk"], "procedure"), ("", {}))
        baseline = forms.get((row["pk"], "baseline"), ("", {}))[1]
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
                visits=row["screening__protocol_version__definition"].get("visits") or {},
                procedure_date=procedure_date,
                treated=tuple(
                    level["level"] for level in procedure.get("levels") or () if level.get("level")
                ),
                risk=_risk(row, baseline, procedure),
            )
        )
    return followed


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
        for start in range(0, len(keys), CHUNK_SIZE):
            chunk = _followed(Participant.objects.filter(pk__in=keys[start : start + CHUNK_SIZE]))
            plans = [followup_plan(person, seed=seed, today=today) for person in chunk]
            followup_write(plans, users=users, sites={person.key: person.site for person in chunk})
            result.participants += len(chunk)
            for plan in plans:
                result.add(plan)
        return result
