"""The follow-up MRI of a course, and an adjudication case for each new fracture it shows at an untreated
level."""

import datetime

from crf.engine.definitions import form_definition
from crf.models import FormStatus

from ...models import CaseStatus
from ..rates import ACUTE_WITHIN_DAYS, MRI_STATUS, THREE_TESLA_SHARE
from .draws import at, weighted
from .fractures import level_relation
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
