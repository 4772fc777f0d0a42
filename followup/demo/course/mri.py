"""The follow-up MRIs of a course, and an adjudication case for each level where they show a new fracture that
was not treated (one case per level, every MRI reporting it its evidence)."""

import datetime

from crf.engine.definitions import form_definition
from crf.models import FormStatus

from ...models import Modality
from ..plan import Exam, Reported
from ..rates import (
    ACUTE_WITHIN_DAYS,
    FALSE_REPORT_GRADES,
    FALSE_REPORT_SHARE,
    MRI_STATUS,
    THREE_TESLA_SHARE,
)
from .draws import at, weighted
from .fractures import level_relation, new_level
from .story import Story


class MriDraws(Story):
    """The follow-up MRIs of a course's visits."""

    def _mri(self, code: str, visit_day: datetime.date) -> None:
        rng, person = self.rng, self.person
        exam = max(person.procedure_date or visit_day, visit_day - datetime.timedelta(days=rng.randint(0, 5)))
        levels = []
        if self.fracture_day is not None and self._post_day(exam) >= self.fracture_day:
            treated, relation = level_relation(self.fracture_level, person.treated)
            age = self._post_day(exam) - self.fracture_day
            grade = weighted(rng, {"1": 40, "2": 40, "3": 20})
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
        elif self.fracture_day is None and rng.random() < FALSE_REPORT_SHARE:
            levels.append(self._false_report())
        data = {
            "exam_date": exam.isoformat(),
            "field_strength": "3.0" if rng.random() < THREE_TESLA_SHARE else "1.5",
            "sequences": ["t1", "t2", "stir"] if rng.random() < 0.7 else ["t1", "t2", "t2_fs"],
            "any_new_fracture": bool(levels),
        }
        if levels:  # crf_save stores no empty group
            data["levels"] = levels
        status = weighted(rng, MRI_STATUS)
        steps = {FormStatus.DRAFT: 1, FormStatus.COMPLETE: 2, FormStatus.VERIFIED: 3}[status]
        entered = at(person, visit_day, 15)
        verified = at(person, min(visit_day + datetime.timedelta(days=rng.randint(7, 40)), self.today), 11)
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
        entered_at = datetime.datetime.fromisoformat(entered)
        for row in levels:
            if row["new_fracture"] and not row["treated"]:
                self.reports.append(
                    {
                        "visit_code": code,
                        "level": row["level"],
                        "location": row["relation"],
                        "grade": int(row["genant_grade"]),
                        "acute": row["acute_signal"],
                        "exam": Exam(
                            exam_date=exam,
                            entered_at=entered_at,
                            completed_at=entered_at if status != FormStatus.DRAFT else None,
                        ),
                    }
                )

    def _false_report(self) -> dict:
        """A new fracture the site's radiologist reports where there is none (an old deformity, a Schmorl
        node, a developmental variant): the same level at every MRI of the participant, mostly mild."""
        rng, person = self.rng, self.person
        if self.false_level is None:
            self.false_level = new_level(rng, person.treated)[0]
        treated, relation = level_relation(self.false_level, person.treated)
        return {
            "level": self.false_level,
            "new_fracture": True,
            "acute_signal": rng.random() < 0.2,
            "genant_grade": weighted(rng, FALSE_REPORT_GRADES),
            "treated": treated,
            "relation": relation,
        }

    def _cases(self) -> None:
        """One case per level (services/adjudication.py): opened by the first MRI entered that reports it,
        dated by the earliest exam, with every MRI reporting the level as its evidence."""
        person = self.person
        by_level: dict[str, list[dict]] = {}
        for report in sorted(self.reports, key=lambda r: r["exam"].entered_at):
            by_level.setdefault(report["level"], []).append(report)
        for level, reports in by_level.items():
            first = reports[0]
            opened = first["exam"].entered_at.isoformat()
            self.plan.cases.append(
                {
                    "participant_id": person.key,
                    "visit_code": first["visit_code"],
                    "level": level,
                    "location": first["location"],
                    "exam_date": min(r["exam"].exam_date for r in reports).isoformat(),
                    "created_at": opened,
                }
            )
            for report in reports:
                self.plan.evidence.append(
                    {
                        "participant_id": person.key,
                        "visit_code": report["visit_code"],
                        "level": level,
                        "modality": Modality.MRI,
                        "exam_date": report["exam"].exam_date.isoformat(),
                        "location": report["location"],
                        "findings": "",
                        "active": True,
                        "created_at": report["exam"].entered_at.isoformat(),
                    }
                )
            self.plan.reported.append(
                Reported(
                    participant=person.key,
                    study_id=person.study_id,
                    site=person.site,
                    time_zone=person.time_zone,
                    level=level,
                    grade=first["grade"],
                    acute=first["acute"],
                    exams=tuple(r["exam"] for r in reports),
                    fracture=level == self.fracture_level,
                    date_until=self._horizon_end(),
                )
            )
