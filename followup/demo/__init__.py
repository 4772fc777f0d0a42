"""Synthetic follow-up for the demo: visits, ODI and VAS answers, follow-up MRIs and adjudication cases.

`followup_plan` (course/) is a pure function of a participant, a seed and today's date: each participant
draws from a random stream of its own (seed and study ID), so the result does not depend on who else is
planned. What is stored is what the services would store: visits placed by the protocol's schedule
(followup.schedule), answers scored by the instruments' own scoring, MRI data with the derived levels the
engine computes, and one adjudication case per participant and new fracture at a non-operated level, every
MRI reporting the level its evidence. The cases are then read as the adjudication services would read them
(`reading_plan`, reading.py: the study's adjudicators by balanced round-robin, verdicts, the third reader on a
disagreement), which needs the run's cases together. `followup_write` (writer.py) inserts plans,
`adjudication_write` the cases with their reading, `followup_seed` (seeder.py) ties them to the study's
participants that have no visit yet, and `followup_demo_stage` (stage.py) is seed_demo's follow-up stage.

Rates (rates.py; shared/domain.md where it gives them, else demo realism, said so beside them):
- New fracture within one year about 15% (domain.md: 12-20%), drawn from the demo's TRUE model
  (rates.REFRACTURE_TRUTH: a logistic model on the risk-model workbench's predictors, coded as the analysis
  dataset's columns and computed from the stored forms, predictors.py), more often adjacent to a treated
  level than remote. The drawn fracture is what the endpoint measures: it happens early enough for an MRI
  within the horizon to find it, and the adjudication's final verdict is the truth (below).
- Pain: VAS about 80 mm before the procedure and 20-30 mm after (domain.md: 87 -> 25 at 6 weeks); a new
  fracture brings the pain back.
- Visits: most done in their window, some missed with a reason, some still overdue (demo realism).
- Reading (demo realism): kappa on the main question about 0.7, mild (Genant 1) cases split most often,
  about 13% of the read cases sent to the third reader, the newest still awaiting their readers. The pairs
  that agree and the third reader find the truth; the cases both readers call "no" are new fractures a
  site's MRI report claimed where the generator drew none (rates.FALSE_REPORT_SHARE).

A study whose protocol asks per-vertebra readings (`adjudication.cases: registered_levels`, the reference
standard of a diagnostic-accuracy study) gets its readings instead from `reference_seed` (reference_seed.py;
the plan in reference.py): every registered vertebra of its demo participants read blind by two demo
adjudicators against the demo's hidden truth (trial.demo.truth), a third on each disagreement.
"""

from .course import followup_plan
from .plan import Exam, Followed, Plan, Reported
from .reading import Reader, Reading, reading_plan
from .reference import Vertebra, VertebraReading, reference_reading_plan
from .reference_seed import ReferenceSeedResult, reference_demo_stage, reference_seed
from .seeder import FollowupSeedResult, followup_seed
from .stage import followup_demo_stage
from .writer import adjudication_write, followup_write

__all__ = [
    "Exam",
    "Followed",
    "FollowupSeedResult",
    "Plan",
    "Reader",
    "Reading",
    "ReferenceSeedResult",
    "Reported",
    "Vertebra",
    "VertebraReading",
    "adjudication_write",
    "followup_demo_stage",
    "followup_plan",
    "followup_seed",
    "followup_write",
    "reading_plan",
    "reference_demo_stage",
    "reference_reading_plan",
    "reference_seed",
]
