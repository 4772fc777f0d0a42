"""The story of a participant's follow-up that every draw shares: the random stream and a new fracture."""

import datetime
import random

from trial.models import ParticipantStatus

from ..plan import Followed, Plan
from ..rates import FOUND_BEFORE_HORIZON_DAYS
from .fractures import fracture_probability, new_level


class Story:
    """One participant's random stream, new fracture (if any) and time line; the base of Course and its parts.

    The parts (visits, questionnaires, MRIs) draw from this one stream, in the order Course.build calls them:
    that order is what makes a seed give the same follow-up.
    """

    def __init__(self, person: Followed, *, seed: int, today: datetime.date):
        self.person = person
        self.today = today
        self.rng = random.Random(f"{seed}:{person.study_id}:followup")
        self.plan = Plan()
        self.reports: list[dict] = []  # each MRI's new fractures at untreated levels (mri.py)
        rng = self.rng
        self.fracture_day = None  # days after the procedure
        self.fracture_level = self.fracture_location = None
        # The true model's event: a new fracture the adjudication dates within the horizon. It happens early
        # enough for the last visit's MRI within the horizon to find it (visits.py brings the patient to it).
        if person.procedure_date and person.treated and rng.random() < fracture_probability(person):
            last = (person.horizon_days or 365) - FOUND_BEFORE_HORIZON_DAYS
            self.fracture_day = max(7, int(last * rng.betavariate(1.3, 2.0)))
            self.fracture_level, self.fracture_location = new_level(rng, person.treated)
        self.fracture_presented = False  # it brought the patient back before the last visit (visits.py)
        self.false_level: str | None = None  # a level a site's MRI report calls newly fractured, wrongly

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

    def _horizon_end(self) -> datetime.date | None:
        """The last day of the endpoint's horizon (None without a procedure or an endpoint)."""
        if self.person.procedure_date is None or self.person.horizon_days is None:
            return None
        return self.person.procedure_date + datetime.timedelta(days=self.person.horizon_days)

    def _hurts(self, day: datetime.date) -> bool:
        post = self._post_day(day)
        return self.fracture_day is not None and post >= self.fracture_day
