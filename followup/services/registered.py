"""Cases of registered fractured vertebrae: under a protocol whose cases are its registered levels
(`adjudication.cases: registered_levels`, followup/question.py), one case per participant and vertebra of
`Screening.fracture_levels`, read blind by two adjudicators and a third on disagreement (a reference
standard, e.g. acute or chronic on MRI).

- **At registration** (`registered_cases_open`): trial's enrollment service calls followup's
  participant_status_changed hook inside its transaction; the participant's cases open there, and each gets
  its two readers (services/assignment.py; a slot no eligible reader can take stays empty for the data
  manager).
- **Cases registered before** (`study_registered_cases_open`): a data manager (API, `open_registered_cases`
  command) opens the cases of the study's participants that lack theirs, and fills the empty slots of the
  open ones. Idempotent: a second run opens and assigns nothing.

A registered vertebra's case has no evidence rows: the registration is its evidence, and a registered
screening never changes (trial.services.screening_update refuses an enrolled one).
"""

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from trial.access import user_roles
from trial.audit import audit_context
from trial.errors import Conflict, Forbidden
from trial.models import Participant, ParticipantStatus, Role, Study

from ..models import AdjudicationCase, CaseAssignment, CaseOrigin, CaseStatus
from ..question import definition_question, study_question
from .assignment import INDEPENDENT, readers_fill

# Participants a round of the study-wide action reads at once: their cases and levels stay a few hundred
# rows in memory, and each round is its own short transaction (the readers' loads change as it goes).
BATCH_SIZE = 200


@dataclass(frozen=True)
class Opened:
    cases: int = 0  # cases opened
    assigned: int = 0  # reader slots filled

    def __add__(self, other: "Opened") -> "Opened":
        return Opened(self.cases + other.cases, self.assigned + other.assigned)


def _open(participants: list[Participant]) -> Opened:
    """Open the missing cases of these participants' registered levels, and fill the empty reader slots of
    their open cases. Inside the caller's transaction; the participants come with their screenings.

    The insert skips a case that another run wrote first (the unique participant-and-level constraint); the
    open cases are then locked in id order before their slots are filled, so that two runs queue."""
    existing = set(
        AdjudicationCase.objects.filter(participant__in=participants).values_list("participant_id", "level")
    )
    missing = [
        AdjudicationCase(participant=p, level=level, origin=CaseOrigin.REGISTRATION)
        for p in participants
        for level in p.screening.fracture_levels or ()
        if (p.pk, level) not in existing
    ]
    if missing:
        AdjudicationCase.objects.bulk_create(missing, ignore_conflicts=True)
    cases = list(
        AdjudicationCase.objects.select_for_update(of=("self",))
        .filter(participant__in=participants, origin=CaseOrigin.REGISTRATION, status=CaseStatus.OPEN)
        .select_related("participant__site")
        .order_by("pk")
    )
    filled = Counter(
        CaseAssignment.objects.filter(case__in=cases, active=True, slot__in=INDEPENDENT).values_list(
            "case_id", flat=True
        )
    )
    assigned = sum(
        len(readers_fill(case, INDEPENDENT, strict=False))
        for case in cases
        if filled[case.pk] < len(INDEPENDENT)
    )
    return Opened(len(missing), assigned)


def registered_cases_open(*, participant: Participant) -> Opened:
    """The cases of a participant registered under a protocol version whose cases are its registered levels,
    opened with their readers (followup's participant_status_changed hook, inside trial's enrollment
    transaction); nothing under any other protocol, or for a participant no longer enrolled. No query for
    that judgement at enrollment (the service loads the screening and its protocol version). Idempotent."""
    if participant.status != ParticipantStatus.ENROLLED:
        return Opened()
    question = definition_question(participant.screening.protocol_version.definition)
    if not question.per_registered_level:
        return Opened()
    return _open([participant])


def _participants(study: Study, after: int):
    return list(
        Participant.objects.filter(site__study=study, status=ParticipantStatus.ENROLLED, pk__gt=after)
        .select_related("screening")
        .order_by("pk")[:BATCH_SIZE]
    )


def study_registered_cases_open(*, study: Study, actor=None) -> Opened:
    """Open the cases of the study's registered participants that lack theirs, and give the open cases their
    missing readers: what registration does, for cases registered before (or before an adjudicator was
    named). `actor`: a study-wide data manager (403 for anyone else); none for a command. 409 when the
    study's protocol does not take its cases from the registered levels. Idempotent: a second run opens and
    assigns nothing.

    Atomic per batch of participants (BATCH_SIZE), each case's row locked while its slots are filled; a run
    that stops half-way is finished by the next."""
    study = Study.objects.select_related("current_version").get(pk=study.pk)
    study_wide = (Role.DATA_MANAGER, study.pk, None)
    if actor is not None and study_wide not in user_roles(actor):
        raise Forbidden(
            _("Only the data managers of study %(study)s can open the cases of its registered vertebrae.")
            % {"study": study.code}
        )
    if not study_question(study).per_registered_level:
        raise Conflict(
            _("The cases of study %(study)s do not come from its registered vertebrae.")
            % {"study": study.code},
            code="not_registered_levels",
        )
    total, after = Opened(), 0
    while True:
        with transaction.atomic(), audit_context(actor=actor, reason="adjudication: registered vertebrae"):
            batch = _participants(study, after)
            if not batch:
                return total
            total += _open(batch)
        after = batch[-1].pk
