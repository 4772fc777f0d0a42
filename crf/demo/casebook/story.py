"""The clinical story of a casebook, which every form records: dates, fractures, the fall, the technique."""

import datetime
import random

from trial.levels import LEVELS, level_index

from ..draws import days, gauss, midnight, site_equipment, weighted
from ..plan import Enrolled
from ..rates import (
    CHRONIC_LEVEL_SHARE,
    DXA_FROM_RECORDS_DAYS,
    PKP_SHARE,
    PROCEDURE_BEFORE_CONSENT_SHARE,
    PROCEDURE_LAG,
    STAY,
)


class Story:
    """One participant's random stream, site equipment and story; the base of Casebook and of its parts.

    The parts (each form's data, the life cycle) draw from this one stream, in the order Casebook.plan calls
    them: that order is what makes a seed give the same casebook.
    """

    def __init__(self, person: Enrolled, *, seed: int, today: datetime.date):
        self.p, self.today, self.seed = person, today, seed
        self.rng = random.Random(f"{seed}:{person.study_id}")
        self.site = site_equipment(seed, person.site)
        self._story()

    # The clinical story, shared by the forms.
    def _story(self) -> None:
        rng, p = self.rng, self.p
        self.mri_day = p.screening_date - days(weighted(rng, {0: 25, 1: 30, 2: 20, 3: 12, 5: 8, 7: 5}))
        self.onset_day = self.mri_day - days(round(gauss(rng, 10, 8, 0, 60)))
        self.procedure_day = p.enrollment_date + days(weighted(rng, PROCEDURE_LAG))
        if rng.random() < PROCEDURE_BEFORE_CONSENT_SHARE and p.consent_date is not None:
            # Dated before consent (a date keyed wrongly, or a deviation); the MRI still came first.
            self.procedure_day = p.consent_date - days(rng.randint(1, 2))
            self.mri_day = min(self.mri_day, self.procedure_day)
            self.onset_day = min(self.onset_day, self.mri_day)
        self.discharge_day = self.procedure_day + days(weighted(rng, STAY))
        self.dxa_day = min(p.enrollment_date + days(rng.randint(-1, 2)), self.procedure_day + days(2))
        if p.records_date is not None:  # drawn after the rest: a prospective casebook draws as before
            offset = round(gauss(rng, *DXA_FROM_RECORDS_DAYS))
            self.dxa_day = min(p.records_date + days(offset), p.enrollment_date)
        self.qmri_day = (
            self.mri_day
            if rng.random() < 0.65
            else min(self.mri_day + days(rng.randint(1, 3)), max(self.procedure_day, self.mri_day))
        )
        self.acute = tuple(p.fracture_levels) or ("L1",)
        self.chronic: tuple[str, ...] = ()
        if rng.random() < CHRONIC_LEVEL_SHARE:
            free = [x for x in LEVELS if x not in self.acute]
            weights = [1 + 6 * (level_index(x) in range(9, 15)) for x in free]  # T10-L3 most often
            self.chronic = (rng.choices(free, weights=weights)[0],)
        self.fall = weighted(rng, {"low_energy_fall": 70, "none_remembered": 25, "other": 5})
        self._fall_other = rng.choice(("Lifting a heavy object", "Coughing", "Bending forward"))
        self.technique = "PKP" if rng.random() < PKP_SHARE else "PVP"
        self.male = p.sex == "male"

    def _moment(self, day: datetime.date, after: datetime.datetime | None = None) -> datetime.datetime:
        """A working-hours time on `day` at the site, in UTC; a few minutes after `after` if need be."""
        minutes = 8 * 60 + 30 + int(self.rng.random() * 9 * 60)
        moment = midnight(self.p.time_zone, day) + datetime.timedelta(minutes=minutes)
        if after is not None and moment <= after:
            moment = after + datetime.timedelta(minutes=self.rng.randint(2, 30))
        return moment
