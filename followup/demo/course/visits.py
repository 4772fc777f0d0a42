"""The visits of a course: scheduled ones done, missed or overdue, and unscheduled ones for back pain."""

import datetime

from trial.models import ParticipantStatus

from ...models import VisitKind, VisitState
from ...schedule import participant_anchors
from ...services.visits import UNSCHEDULED_LABEL, UNSCHEDULED_SEQUENCE
from ..rates import (
    BACK_PAIN_SHARE,
    LOST_DECLARED_SHARE,
    LOST_REASON,
    MISSED_REASONS,
    MISSED_SHARE,
    OPEN_DONE_SHARE,
    OVERDUE_SHARE,
    PATIENT_DRAFT_SHARE,
    PRESENTED_SHARE,
    WITHDRAWN_REASON,
)
from .draws import at, clamp
from .story import Story


class VisitDraws(Story):
    """A course's visits; a visit done calls the questionnaire and MRI draws (_answer, _mri) of Course."""

    def _unscheduled(self, planned) -> list[tuple[datetime.date, bool]]:
        """Unscheduled visits: a new fracture that hurt before the last visit, or back pain without one."""
        rng, person = self.rng, self.person
        if person.procedure_date is None or not (person.visits.get("unscheduled") or {}):
            return []
        at_start = participant_anchors(person.visits)
        last = max((v.window_open for v in planned if v.anchor not in at_start), default=None)
        visits = []
        if self.fracture_day is not None and rng.random() < PRESENTED_SHARE:
            # A week or more of pain before coming back: the visit's MRI (taken up to 5 days before the visit)
            # is after the fracture, and shows it.
            day = person.procedure_date + datetime.timedelta(days=self.fracture_day + rng.randint(8, 21))
            if (last is None or day < last) and day <= self._end():
                visits.append((day, True))
                self.fracture_presented = True
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
            "created_at": at(person, visit.target_date - datetime.timedelta(days=visit.day), 18),
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
        if self._must_find(visit):
            # The true model's event is found within the horizon: a patient with a new fracture comes to the
            # visit that looks for one, by the horizon's end (else the endpoint would count it event-free).
            done_by = min(done_by, self._horizon_end())
            if done_by >= visit.window_open:
                span = (done_by - visit.window_open).days
                self._done(row, visit, clamp(rng.gauss(span / 2, max(1, span / 4)), 0, span))
                return
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
            self._done(row, visit, clamp(rng.gauss(center, max(1, span / 4)), 0, span))

    def _must_find(self, visit) -> bool:
        """Whether this visit's MRI is how the true new fracture is found within the horizon: it collects the
        MRI, opens after the fracture, by the horizon's end, and no unscheduled visit found it earlier."""
        end = self._horizon_end()
        if self.fracture_day is None or self.fracture_presented or end is None:
            return False
        # The visit's MRI may be taken up to 5 days before it (mri.py): still after the fracture.
        fractured = self.person.procedure_date + datetime.timedelta(days=self.fracture_day + 5)
        return "followup_mri" in visit.forms and fractured < visit.window_open <= end

    def _decide(self, row: dict, state: str, visit_date, reason: str, day: datetime.date) -> None:
        row.update(state=state, visit_date=visit_date, reason=reason)
        row["updated_at"] = at(self.person, min(day + datetime.timedelta(days=1), self.today), 9)

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
                "created_at": at(person, day, 11),
                "updated_at": at(person, day, 11),
            }
        )
        for instrument in extra.get("questionnaires", []):
            self._answer(code, instrument, day, final=True)
        if "followup_mri" in extra.get("forms", []):
            self._mri(code, day)
