"""Synthetic follow-up for the demo: visits, ODI and VAS answers, follow-up MRIs and adjudication cases.

`followup_plan` is a pure function of a participant, a seed and today's date: each participant draws from a
random stream of its own (seed and study ID), so the result does not depend on who else is planned. What is
stored is what the services would store: visits placed by the protocol's schedule (followup.schedule), answers
scored by the instruments' own scoring, MRI data with the derived levels the engine computes, and one open
adjudication case per new fracture at a non-operated level.

Rates (shared/domain.md where it gives them, else demo realism, said so beside them):
- New fracture within one year about 15% (domain.md: 12-20%), more likely with the risk factors domain.md
  lists (female, older, cement leakage, prior fracture, glucocorticoids, diabetes, smoking; anti-osteoporosis
  treatment protective), and more often adjacent to a treated level than remote.
- Pain: VAS about 80 mm before the procedure and 20-30 mm after (domain.md: 87 -> 25 at 6 weeks); a new
  fracture brings the pain back.
- Visits: most done in their window, some missed with a reason, some still overdue (demo realism).
"""

import datetime
import json
import math
import random
import zoneinfo
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from crf.engine.definitions import form_definition
from crf.models import FormRecord, FormStatus
from trial.audit import audit_context
from trial.clock import site_today
from trial.demo import DEMO_REASON, demo_staff
from trial.hooks import DemoAdded
from trial.levels import LEVELS, level_index
from trial.models import Participant, ParticipantStatus, Role, Study

from .instruments import INSTRUMENTS, score_answers
from .models import (
    AdjudicationCase,
    CaseStatus,
    QuestionnaireResponse,
    ResponseSource,
    ResponseStatus,
    Visit,
    VisitKind,
    VisitState,
)
from .schedule import form_anchors, participant_anchors, plan_visits
from .services.visits import UNSCHEDULED_LABEL, UNSCHEDULED_SEQUENCE

DEMO_COMMAND = "seed_demo"
CHUNK_SIZE = 2000  # participants per round: their forms (about 2 kB each) and plans stay a few MB in memory
BATCH_SIZE = 2000  # rows per INSERT, one JSON document (see crf.demo.BATCH_SIZE)

# Visits whose window has closed (demo realism).
MISSED_SHARE = 0.04
OVERDUE_SHARE = 0.05  # never recorded: a backlog, mostly of recent windows
OPEN_DONE_SHARE = 0.35  # of visits whose window is open today
LOST_DECLARED_SHARE = 0.7  # of a lost participant's later visits, declared missed; the rest stay overdue
MISSED_REASONS = (
    "Patient could not be reached by phone",
    "Patient declined the visit",
    "Patient in hospital elsewhere",
)
LOST_REASON = "Lost to follow-up"
WITHDRAWN_REASON = "Participant withdrew"
SOURCES = {ResponseSource.PATIENT: 45, ResponseSource.INTERVIEW: 40, ResponseSource.PAPER: 15}
ENGLISH_SHARE = 0.08  # patients answering in English
PATIENT_DRAFT_SHARE = 0.25  # of open visits: the patient started the questionnaire from a link
SEX_LIFE_SKIPPED = 0.10  # the ODI section patients most often leave blank (demo realism)
TWO_SKIPPED = 0.01  # two sections blank: no score (domain.md)
MULTI_TICK = 0.02  # two boxes ticked in one section: the higher counts
SEX_LIFE = 7  # index of the sex-life section (domain.md order)

# New fractures (domain.md): base rate and log-odds of the risk factors; tuned to about 15% at one year.
FRACTURE_INTERCEPT = -2.45
FRACTURE_LOG_ODDS = {
    "female": 0.30,
    "per_year_over_70": 0.035,
    "leakage": 0.60,
    "prior_fracture": 0.55,
    "glucocorticoids": 0.55,
    "diabetes": 0.45,
    "smoking": 0.40,
    "anti_osteoporosis": -0.40,
    "extra_level": 0.30,
}
ANTI_OSTEOPOROSIS = frozenset({"bisphosphonate", "denosumab", "teriparatide", "raloxifene"})
ADJACENT_SHARE = 0.6  # domain.md: risk is highest one level from the cemented vertebra
PRESENTED_SHARE = 0.45  # a new fracture before the 12-month window brings the patient back with pain
BACK_PAIN_SHARE = 0.02  # unscheduled visits for back pain without a new fracture
THREE_TESLA_SHARE = 0.8
ACUTE_WITHIN_DAYS = 90  # oedema fades over a few months (demo realism)
MRI_STATUS = {FormStatus.DRAFT: 5, FormStatus.COMPLETE: 55, FormStatus.VERIFIED: 40}

# Means (sd) of the scores by days after the procedure; the baseline is before it (domain.md for the VAS).
VAS_MEANS = ((-1, 80, 10), (45, 30, 14), (120, 24, 13), (240, 21, 12), (10_000, 19, 12))
ODI_MEANS = ((-1, 62, 12), (45, 40, 13), (120, 33, 12), (240, 28, 11), (10_000, 25, 11))
FRACTURE_PAIN = (30, 18)  # VAS mm and ODI points added while a new fracture hurts


@dataclass(frozen=True)
class Followed:
    """What the plan needs of a participant."""

    key: int
    study_id: str
    site: str
    time_zone: str
    age: int
    sex: str
    enrollment_date: datetime.date
    status: str
    status_date: datetime.date | None
    visits: Mapping  # the protocol version's `visits:` section
    procedure_date: datetime.date | None
    treated: tuple[str, ...]
    risk: Mapping  # factor name -> 0/1 (or years for age)


@dataclass
class Plan:
    visits: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)  # name their visit by "visit_code"
    mris: list[dict] = field(default_factory=list)  # name their visit by "visit_code"
    cases: list[dict] = field(default_factory=list)  # name their MRI by "visit_code"


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


def _midnight(time_zone: str, day: datetime.date) -> datetime.datetime:
    local = datetime.datetime.combine(day, datetime.time(), tzinfo=zoneinfo.ZoneInfo(time_zone))
    return local.astimezone(datetime.UTC)


def _at(person: Followed, day: datetime.date, hours: float) -> str:
    return (_midnight(person.time_zone, day) + datetime.timedelta(hours=hours)).isoformat()


def _weighted(rng: random.Random, weights: Mapping):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _mean_at(table, day: int, rng: random.Random) -> float:
    for until, mean, sd in table:
        if day <= until:
            return rng.gauss(mean, sd)
    raise AssertionError("the tables end with a large day")


# --- the plan ----------------------------------------------------------------------------------------------


def _fracture_probability(person: Followed) -> float:
    risk = person.risk
    logit = FRACTURE_INTERCEPT + sum(
        FRACTURE_LOG_ODDS[name] * risk.get(name, 0) for name in FRACTURE_LOG_ODDS
    )
    return 1 / (1 + math.exp(-logit))


def _new_level(rng: random.Random, treated: Sequence[str]) -> tuple[str, str]:
    """A level that was not treated, and whether it is adjacent to a treated one or remote."""
    treated_at = {level_index(level) for level in treated}
    adjacent = [
        level
        for level in LEVELS
        if level_index(level) not in treated_at and any(abs(level_index(level) - t) == 1 for t in treated_at)
    ]
    remote = [
        level
        for level in LEVELS
        if level_index(level) not in treated_at and all(abs(level_index(level) - t) > 1 for t in treated_at)
    ]
    # Remote fractures cluster at the thoracolumbar junction too (demo realism): weighted by closeness to T12.
    if adjacent and (rng.random() < ADJACENT_SHARE or not remote):
        return rng.choice(adjacent), "adjacent"
    weights = [1 / (1 + abs(level_index(level) - level_index("T12"))) for level in remote]
    return rng.choices(remote, weights=weights)[0], "remote"


def _relation(level: str, treated: Sequence[str]) -> tuple[bool, str]:
    distances = [abs(level_index(level) - level_index(t)) for t in treated]
    if 0 in distances:
        return True, "treated"
    return False, "adjacent" if 1 in distances else "remote"


def _odi_answers(rng: random.Random, score: float) -> list:
    mean = score / 20
    answers: list = [_clamp(rng.gauss(mean, 0.8), 0, 5) for _ in range(10)]
    if rng.random() < MULTI_TICK:
        i = rng.randrange(10)
        if answers[i] < 5:
            answers[i] = [answers[i], answers[i] + 1]
    if rng.random() < SEX_LIFE_SKIPPED:
        answers[SEX_LIFE] = None
        if rng.random() < TWO_SKIPPED / SEX_LIFE_SKIPPED:
            answers[rng.choice([i for i in range(10) if i != SEX_LIFE])] = None
    return answers


class _Person:
    """Draws one participant's follow-up."""

    def __init__(self, person: Followed, *, seed: int, today: datetime.date):
        self.person = person
        self.today = today
        self.rng = random.Random(f"{seed}:{person.study_id}:followup")
        self.plan = Plan()
        rng = self.rng
        self.fracture_day = None  # days after the procedure
        self.fracture_level = self.fracture_location = None
        if person.procedure_date and person.treated and rng.random() < _fracture_probability(person):
            self.fracture_day = max(7, int(365 * rng.betavariate(1.3, 2.0)))
            self.fracture_level, self.fracture_location = _new_level(rng, person.treated)

    # -- helpers --

    def _end(self) -> datetime.date:
        """The last day the participant could be seen (today, or their withdrawal or loss)."""
        end = self.today - datetime.timedelta(days=1)
        if self.person.status != ParticipantStatus.ENROLLED and self.person.status_date:
            end = min(end, self.person.status_date)
        return end

    def _post_day(self, day: datetime.date) -> int:
        """Days after the procedure; -1 up to its day (answered before it) or without one."""
        if self.person.procedure_date is None or day <= self.person.procedure_date:
            return -1
        return (day - self.person.procedure_date).days

    def _hurts(self, day: datetime.date) -> bool:
        post = self._post_day(day)
        return self.fracture_day is not None and post >= self.fracture_day

    # -- the plan --

    def build(self) -> Plan:
        person = self.person
        # The demo knows two kinds of anchor dates: the participant's (enrollment) and the procedure form's.
        anchors = {
            name: getattr(person, field, None) for name, field in participant_anchors(person.visits).items()
        }
        procedure_anchors = form_anchors(person.visits, "procedure")
        if person.procedure_date:
            anchors |= dict.fromkeys(procedure_anchors, person.procedure_date)
        planned = plan_visits(person.visits, {k: v for k, v in anchors.items() if v})
        presented = self._unscheduled(planned)
        for visit in planned:
            self._scheduled(visit)
        for day, with_fracture in presented:
            self._add_unscheduled(day, with_fracture)
        return self.plan

    def _unscheduled(self, planned) -> list[tuple[datetime.date, bool]]:
        """Unscheduled visits: a new fracture that hurt before the last visit, or back pain without one."""
        rng, person = self.rng, self.person
        if person.procedure_date is None or not (person.visits.get("unscheduled") or {}):
            return []
        at_start = participant_anchors(person.visits)
        last = max((v.window_open for v in planned if v.anchor not in at_start), default=None)
        visits = []
        if self.fracture_day is not None and rng.random() < PRESENTED_SHARE:
            day = person.procedure_date + datetime.timedelta(days=self.fracture_day + rng.randint(3, 21))
            if (last is None or day < last) and day <= self._end():
                visits.append((day, True))
        if not visits and rng.random() < BACK_PAIN_SHARE:
            day = person.procedure_date + datetime.timedelta(days=rng.randint(20, 330))
            if day <= self._end():
                visits.append((day, False))
        return visits

    def _scheduled(self, visit) -> None:
        rng, person, today = self.rng, self.person, self.today
        row = {
            "participant_id": person.key,
            "code": visit.code,
            "label": visit.label,
            "kind": VisitKind.SCHEDULED,
            "sequence": visit.sequence,
            "anchor": visit.anchor,
            "day": visit.day,
            "target_date": visit.target_date.isoformat(),
            "window_open": visit.window_open.isoformat(),
            "window_close": visit.window_close.isoformat(),
            "forms": list(visit.forms),
            "questionnaires": list(visit.questionnaires),
            "state": VisitState.PENDING,
            "visit_date": None,
            "reason": "",
            # Created when its anchor date became known: at enrollment, or when the procedure was recorded.
            "created_at": _at(person, visit.target_date - datetime.timedelta(days=visit.day), 18),
        }
        row["updated_at"] = row["created_at"]
        self.plan.visits.append(row)
        stopped = person.status_date if person.status != ParticipantStatus.ENROLLED else None
        if stopped and visit.window_open > stopped:
            if person.status == ParticipantStatus.WITHDRAWN:
                self._decide(row, VisitState.NOT_APPLICABLE, None, WITHDRAWN_REASON, stopped)
            elif (
                person.status == ParticipantStatus.LOST_TO_FOLLOW_UP
                and visit.window_close < today
                and rng.random() < LOST_DECLARED_SHARE
            ):
                self._decide(row, VisitState.MISSED, None, LOST_REASON, visit.window_close)
            return
        if visit.window_open >= today:
            return  # upcoming
        done_by = min(visit.window_close, self._end())
        if visit.window_close >= today:  # open today
            if done_by >= visit.window_open and rng.random() < OPEN_DONE_SHARE:
                self._done(row, visit, rng.randint(0, (done_by - visit.window_open).days))
            elif rng.random() < PATIENT_DRAFT_SHARE:
                self._patient_draft(row, visit)
            return
        draw = rng.random()
        recent = (today - visit.window_close).days < 60
        if draw < MISSED_SHARE:
            self._decide(row, VisitState.MISSED, None, rng.choice(MISSED_REASONS), visit.window_close)
        elif draw < MISSED_SHARE + OVERDUE_SHARE * (3 if recent else 0.1):
            return  # overdue: nobody recorded it yet
        elif visit.anchor in participant_anchors(person.visits):
            self._done(row, visit, 0)  # a baseline is taken on its day (enrollment), before the procedure
        elif done_by >= visit.window_open:
            # Mostly near the target day (demo realism).
            span = (done_by - visit.window_open).days
            center = min(span, (visit.target_date - visit.window_open).days)
            self._done(row, visit, _clamp(rng.gauss(center, max(1, span / 4)), 0, span))

    def _decide(self, row: dict, state: str, visit_date, reason: str, day: datetime.date) -> None:
        row.update(state=state, visit_date=visit_date, reason=reason)
        row["updated_at"] = _at(self.person, min(day + datetime.timedelta(days=1), self.today), 9)

    def _done(self, row: dict, visit, offset: int) -> None:
        day = visit.window_open + datetime.timedelta(days=offset)
        self._decide(row, VisitState.COMPLETED, day.isoformat(), "", day)
        for instrument in visit.questionnaires:
            self._answer(visit.code, instrument, day, final=True)
        if "followup_mri" in visit.forms:
            self._mri(visit.code, day)

    def _add_unscheduled(self, day: datetime.date, with_fracture: bool) -> None:
        person = self.person
        extra = person.visits.get("unscheduled") or {}
        number = 1
        label = extra.get("label") or UNSCHEDULED_LABEL
        code = f"U{number}"
        self.plan.visits.append(
            {
                "participant_id": person.key,
                "code": code,
                "label": {language: text.replace("{n}", str(number)) for language, text in label.items()},
                "kind": VisitKind.UNSCHEDULED,
                "sequence": UNSCHEDULED_SEQUENCE + number,
                "anchor": "",
                "day": None,
                "target_date": day.isoformat(),
                "window_open": day.isoformat(),
                "window_close": day.isoformat(),
                "forms": list(extra.get("forms", [])),
                "questionnaires": list(extra.get("questionnaires", [])),
                "state": VisitState.COMPLETED,
                "visit_date": day.isoformat(),
                "reason": "New back pain" if with_fracture else "Back pain",
                "created_at": _at(person, day, 11),
                "updated_at": _at(person, day, 11),
            }
        )
        for instrument in extra.get("questionnaires", []):
            self._answer(code, instrument, day, final=True)
        if "followup_mri" in extra.get("forms", []):
            self._mri(code, day)

    def _score(self, instrument: str, day: datetime.date) -> float:
        post = self._post_day(day)
        table = VAS_MEANS if instrument == "vas" else ODI_MEANS
        value = _mean_at(table, post, self.rng)
        if self._hurts(day):
            value += FRACTURE_PAIN[0] if instrument == "vas" else FRACTURE_PAIN[1]
        return value

    def _answers(self, instrument: str, day: datetime.date):
        value = self._score(instrument, day)
        if instrument == "vas":
            return {"pain": _clamp(value, 0, 100)}
        return _odi_answers(self.rng, max(0.0, min(100.0, value)))

    def _answer(self, code: str, instrument: str, day: datetime.date, *, final: bool) -> None:
        rng, person = self.rng, self.person
        answers = self._answers(instrument, day)
        result = score_answers(instrument, answers)
        source = _weighted(rng, SOURCES) if final else ResponseSource.PATIENT
        self.plan.responses.append(
            {
                "participant_id": person.key,
                "visit_code": code,
                "instrument": instrument,
                "instrument_version": INSTRUMENTS[instrument].version,
                "source": source,
                "language": "en" if rng.random() < ENGLISH_SHARE else "zh-hans",
                "answers": answers,
                "score": str(result.score) if result.score is not None else None,
                "band": result.band or "",
                "answered": result.answered,
                "status": ResponseStatus.FINAL if final else ResponseStatus.DRAFT,
                "completed_on": day.isoformat() if final else None,
                "entered_by": None if source == ResponseSource.PATIENT else Role.COORDINATOR,
                "created_at": _at(person, day, 10),
                "updated_at": _at(person, day, 10.25),
                "submitted_at": _at(person, day, 10.25) if final else None,
                "version": 1 if source == ResponseSource.PATIENT else 2,
            }
        )

    def _patient_draft(self, row: dict, visit) -> None:
        """The patient opened the link and answered part of a questionnaire (a draft, not final)."""
        if "odi" not in visit.questionnaires:
            return
        day = self.today - datetime.timedelta(days=1)
        answered = self.rng.randint(3, 8)  # sections answered before the patient stopped
        answers = self._answers("odi", day)[:answered] + [None] * (10 - answered)
        result = score_answers("odi", answers)
        self.plan.responses.append(
            {
                "participant_id": self.person.key,
                "visit_code": row["code"],
                "instrument": "odi",
                "instrument_version": INSTRUMENTS["odi"].version,
                "source": ResponseSource.PATIENT,
                "language": "zh-hans",
                "answers": answers,
                "score": str(result.score) if result.score is not None else None,
                "band": result.band or "",
                "answered": result.answered,
                "status": ResponseStatus.DRAFT,
                "completed_on": None,
                "entered_by": None,
                "created_at": _at(self.person, day, 20),
                "updated_at": _at(self.person, day, 20.1),
                "submitted_at": None,
                "version": 1,
            }
        )

    def _mri(self, code: str, visit_day: datetime.date) -> None:
        rng, person = self.rng, self.person
        exam = max(person.procedure_date or visit_day, visit_day - datetime.timedelta(days=rng.randint(0, 5)))
        levels = []
        if self.fracture_day is not None and self._post_day(exam) >= self.fracture_day:
            treated, relation = _relation(self.fracture_level, person.treated)
            age = self._post_day(exam) - self.fracture_day
            grade = _weighted(rng, {"1": 40, "2": 40, "3": 20})
            levels.append(
                {
                    "level": self.fracture_level,
                    "new_fracture": True,
                    "acute_signal": age <= ACUTE_WITHIN_DAYS or rng.random() < 0.3,
                    "genant_grade": grade,
                    "treated": treated,
                    "relation": relation,
                }
            )
        data = {
            "exam_date": exam.isoformat(),
            "field_strength": "3.0" if rng.random() < THREE_TESLA_SHARE else "1.5",
            "sequences": ["t1", "t2", "stir"] if rng.random() < 0.7 else ["t1", "t2", "t2_fs"],
            "any_new_fracture": bool(levels),
        }
        if levels:  # crf_save stores no empty group
            data["levels"] = levels
        status = _weighted(rng, MRI_STATUS)
        steps = {FormStatus.DRAFT: 1, FormStatus.COMPLETE: 2, FormStatus.VERIFIED: 3}[status]
        entered = _at(person, visit_day, 15)
        verified = _at(person, min(visit_day + datetime.timedelta(days=rng.randint(7, 40)), self.today), 11)
        self.plan.mris.append(
            {
                "participant_id": person.key,
                "visit_code": code,
                "form_code": "followup_mri",
                "form_version": form_definition("followup_mri").version,
                "status": status,
                "data": data,
                "version": steps,
                "created_at": entered,
                "updated_at": verified if status == FormStatus.VERIFIED else entered,
                "completed_at": entered if status != FormStatus.DRAFT else None,
                "verified_at": verified if status == FormStatus.VERIFIED else None,
            }
        )
        for row in levels:
            if row["new_fracture"] and not row["treated"]:
                self.plan.cases.append(
                    {
                        "participant_id": person.key,
                        "visit_code": code,
                        "level": row["level"],
                        "location": row["relation"],
                        "exam_date": exam.isoformat(),
                        "status": CaseStatus.OPEN,
                        "created_at": entered,
                        "updated_at": entered,
                    }
                )


def followup_plan(person: Followed, *, seed: int, today: datetime.date) -> Plan:
    """One participant's visits, questionnaire responses, follow-up MRIs and adjudication cases on `today`."""
    return _Person(person, seed=seed, today=today).build()


# --- reading the participants -------------------------------------------------------------------------------


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


# --- writing ------------------------------------------------------------------------------------------------


def _insert(model, rows: list[dict], *, returning: tuple[str, ...] = ()) -> list[tuple]:
    """INSERT ... SELECT from JSON documents of rows (see crf.demo.crf_write for why not bulk_create)."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    fields = {f.column: f for f in model._meta.concrete_fields}
    columns = list(rows[0])
    definition = ", ".join(f"{quote(c)} {fields[c].db_type(connection)}" for c in columns)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"SELECT {', '.join(f'r.{quote(c)}' for c in columns)} "
        f"FROM json_to_recordset(%s::json) AS r({definition})"
    )
    if returning:
        sql += f" RETURNING {', '.join(quote(c) for c in returning)}"
    found = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            batch = json.dumps(rows[start : start + BATCH_SIZE], ensure_ascii=False, separators=(",", ":"))
            cursor.execute(sql, [batch])
            if returning:
                found += cursor.fetchall()
    return found


def followup_write(plans: Sequence[Plan], *, users: Mapping[tuple[str, str], int], sites: Mapping[int, str]):
    """Insert the plans' rows: visits, then the responses, MRIs and cases that name them. In a transaction."""
    visits = [row for plan in plans for row in plan.visits]
    for row in visits:
        row["updated_by_id"] = users[(Role.COORDINATOR, sites[row["participant_id"]])]
    ids = {
        (pk, code): visit_id
        for visit_id, pk, code in _insert(Visit, visits, returning=("id", "participant_id", "code"))
    }
    responses = []
    for plan in plans:
        for row in plan.responses:
            row = dict(row)
            row["visit_id"] = ids[(row["participant_id"], row.pop("visit_code"))]
            role = row.pop("entered_by")
            row["entered_by_id"] = users[(role, sites[row["participant_id"]])] if role else None
            responses.append(row)
    _insert(QuestionnaireResponse, responses)
    mris = []
    for plan in plans:
        for row in plan.mris:
            row = dict(row)
            site = sites[row["participant_id"]]
            row["updated_by_id"] = users[(Role.COORDINATOR, site)]
            row["verified_by_id"] = users[(Role.MONITOR, "*")] if row["verified_at"] else None
            mris.append(row)
    records = {
        (pk, code): record_id
        for record_id, pk, code in _insert(FormRecord, mris, returning=("id", "participant_id", "visit_code"))
    }
    cases = []
    for plan in plans:
        for row in plan.cases:
            row = dict(row)
            key = (row["participant_id"], row.pop("visit_code"))
            cases.append({**row, "visit_id": ids[key], "record_id": records[key]})
    _insert(AdjudicationCase, cases)


def followup_seed(*, study: Study, seed: int, today: datetime.date | None = None) -> FollowupSeedResult:
    """Fill the follow-up of the study's demo participants that have no visit yet; a second run adds nothing.

    Atomic and durable so that a failed seed leaves nothing behind; the study row is locked so that two
    seeders cannot plan the same participants. Only participants seed_demo created (audit trail) are seeded.
    """
    with transaction.atomic(durable=True), audit_context(reason=DEMO_REASON, command=DEMO_COMMAND):
        study = Study.objects.select_for_update(of=("self",)).get(pk=study.pk)
        pending = Participant.objects.filter(
            Exists(
                apps.get_model("trial", "ParticipantEvent").objects.filter(
                    pgh_obj=OuterRef("pk"), pgh_label="insert", pgh_context__metadata__command=DEMO_COMMAND
                )
            ),
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


def followup_demo_stage(*, study: Study, seed: int) -> DemoAdded:
    """trial.hooks.demo_stages: the follow-up of the demo participants, with a line saying what was added."""
    added = followup_seed(study=study, seed=seed)
    if not added.participants:
        return DemoAdded(
            name="followup", line=f"{study.code} follow-up: nothing to add", counts={"visits_added": 0}
        )
    states = ", ".join(f"{state} {count:,}" for state, count in sorted(added.visits.items()))
    return DemoAdded(
        name="followup",
        line=(
            f"{study.code} follow-up: {sum(added.visits.values()):,} visits ({states}), "
            f"{added.responses:,} questionnaires, {added.mris:,} follow-up MRIs, "
            f"{added.cases:,} adjudication cases for {added.participants:,} participants"
        ),
        counts={"visits_added": sum(added.visits.values()), "questionnaires_added": added.responses},
    )
