"""The demo follow-up's realism: visit outcomes, who answers how, new-fracture risk and the course of pain.

From shared/domain.md where it gives them, else demo realism, said so beside them.
"""

from crf.models import FormStatus

from ..models import ResponseSource

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

# The reading of the cases (reading.py), demo realism. Readers agree less on mild deformities: Genant's
# semiquantitative grade 1 (20-25 % height loss) is the least reproducible call, so mild cases are split most
# often. The shares are of the read pairs of each grade (the site's grade on the MRI that opened the case),
# drawn as quotas so that the demo's figures hold at any size: with the grades' mix (40/40/20, course/mri.py)
# about 13 % of the read cases go to the third reader and kappa on the main question is about 0.7.
DISPUTE_SHARE = {1: 0.25, 2: 0.07, 3: 0.02}  # the two readers disagree on the main question
BOTH_NO_SHARE = {1: 0.45, 2: 0.15, 3: 0.03}  # both find no new fracture (a normal variant, an old deformity)
SINGLE_YES_SHARE = {1: 0.6, 2: 0.88, 3: 0.97}  # a lone verdict (the other reader has not read yet): yes
THIRD_YES_SHARE = {1: 0.4, 2: 0.7, 3: 0.85}  # the tie-breaker finds a new fracture
READ_DAYS = 10  # mean days from assignment to a verdict (exponential, at least the next day)
THIRD_READ_DAYS = 14  # the tie-breaker's, from the dispute
READ_HOURS = (9, 18)  # readers sign in working hours, site time
GRADE_AGREES = 0.7  # a reader grades as the site did; else one grade off
ACUTE_AGREES = 0.9  # a reader sees the acute signal as the site did
LATER_EXAM_SHARE = 0.15  # a reader dates the event by a later MRI, the first one equivocal to them
COMMENT_SHARE = 0.3
# Each state of the workflow shows in the demo: at least this many cases (up to a tenth of those read)
# await both verdicts, await one, and await the third reader (up to half the disputes).
AWAITING_MIN = 2
CONFIDENCE = {  # by the reader's answer and the site's grade
    (True, 1): {"low": 30, "moderate": 55, "high": 15},
    (True, 2): {"low": 5, "moderate": 45, "high": 50},
    (True, 3): {"low": 0, "moderate": 20, "high": 80},
    (False, 1): {"low": 30, "moderate": 50, "high": 20},
    (False, 2): {"low": 40, "moderate": 50, "high": 10},
    (False, 3): {"low": 60, "moderate": 35, "high": 5},
}
COMMENTS = {
    True: (
        "Marrow oedema on STIR, new height loss since the diagnostic MRI.",
        "Endplate fracture with oedema; no retropulsion.",
        "New wedge deformity with a fracture line on T1.",
    ),
    False: (
        "No oedema; the deformity was present on the diagnostic MRI.",
        "Height loss under 20 %: a developmental variant, not a fracture.",
        "Schmorl node, no fracture.",
    ),
}
