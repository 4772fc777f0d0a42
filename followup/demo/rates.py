"""The demo follow-up's realism: visit outcomes, who answers how, new-fracture risk and the course of pain.

From shared/domain.md where it gives them, else demo realism, said so beside them.
"""

import math

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

# New fractures: the demo's TRUE model, a logistic model of an adjudicated new fracture within the endpoint's
# horizon (one year) on the workbench's predictors, coded as the analysis dataset's columns (reports/exports/
# analysis.py) and computed from the values the database holds (predictors.py). Published here, as data, so
# that the risk-model workbench's estimates can be compared with it (tests/followup/test_demo_truth.py, and
# `BENCH_PARTS=riskmodel make bench` at 56,000 participants). Log-odds per unit of each column; the odds
# ratios from shared/domain.md ("Risk factors for re-fracture") where it gives one, else demo realism (said).
REFRACTURE_TRUTH = {
    # Tuned so that about 15 % of the participants followed for a year have an event (domain.md: 12-20 %;
    # JOSR 2022 13.4 %, Zhang 2021 16.4 %, Chen 2019 15.7 %), at the demo's mix of the predictors.
    "intercept": -4.75,
    "age": math.log(1.03),  # per year; domain.md: the re-fractured were older (+2 years, JOSR 2022)
    "female": math.log(1.34),  # domain.md: female OR 1.34 (JOSR 2022)
    "baseline_bmi": math.log(0.86),  # per kg/m2; domain.md: lower BMI, OR 0.86 per kg/m2
    "t_score_min": math.log(0.75),  # per T-score unit; domain.md: lower BMD riskier (size: demo realism)
    "pdff_mean": math.log(1.03),  # per PDFF point (%); domain.md: higher PDFF in osteoporosis and before a
    # fracture (size: demo realism, OR 1.34 per 10 points)
    "r2star_mean": math.log(0.995),  # per s-1; domain.md: R2* lower in osteoporosis (size: demo realism)
    "fractures_n": math.log(1.43),  # per fractured level at baseline; domain.md: OR 1.43
    "leakage": math.log(2.05),  # cement leakage at any level; domain.md: OR 2.05 (JOSR 2022)
    "leakage_intradiscal": math.log(1.5),  # on top of any leakage; domain.md names it (size: demo realism)
    "baseline_glucocorticoids": math.log(1.84),  # domain.md: RR 1.84 (mixed evidence), taken as the OR
    "baseline_vas_preop": math.log(1.01),  # per mm; domain.md: higher pre-op VAS (size: demo realism)
    "anti_osteoporosis": math.log(0.70),  # a current bisphosphonate, denosumab, teriparatide or raloxifene
    # (the baseline form's current_treatment); domain.md: protective (size: demo realism)
}
# Where the database holds no value (a draft still missing it, a form not keyed, an exam not done or a value
# never recorded: crf/demo/rates.py NOT_DONE, NOT_RECORDED, a few % of each predictor), the draw uses this
# one: the demo's centre of the predictor, so that the truth stays a function of what is stored. The value the
# participant would have had is not stored anywhere, so the truth of one with a missing value uses the
# fallback: which values are missing depends on nothing (a stream of its own), and the model stays true for
# the observed values (the complete cases follow it exactly); imputing a missing value from the others and the
# outcome then recovers about the fallback's effect, a bias the few % missing keep small.
REFRACTURE_FALLBACK = {
    "age": 72.0,
    "female": 1,
    "baseline_bmi": 22.0,
    "t_score_min": -3.3,
    "pdff_mean": 52.0,
    "r2star_mean": 93.0,
    "fractures_n": 1.6,
    "leakage": 0,
    "leakage_intradiscal": 0,
    "baseline_glucocorticoids": 0,
    "baseline_vas_preop": 87.0,
    "anti_osteoporosis": 0,
}
ANTI_OSTEOPOROSIS = frozenset({"bisphosphonate", "denosumab", "teriparatide", "raloxifene"})
# The drawn fractures happen by this many days before the horizon's end: the M12 window opens 30 days before
# it and its MRI may be taken up to 5 days before the visit, so that MRI finds every one within the horizon.
FOUND_BEFORE_HORIZON_DAYS = 40
ADJACENT_SHARE = 0.6  # domain.md: risk is highest one level from the cemented vertebra
PRESENTED_SHARE = 0.45  # a new fracture before the 12-month window brings the patient back with pain
BACK_PAIN_SHARE = 0.02  # unscheduled visits for back pain without a new fracture
# A follow-up MRI of a participant without a new fracture on which the site reports one (an old deformity, a
# Schmorl node): the central readers find no fracture. These are the cases both readers call "no" (demo
# realism: about a quarter of the read cases, which keeps kappa about 0.7), mostly mild.
FALSE_REPORT_SHARE = 0.06
FALSE_REPORT_GRADES = {"1": 70, "2": 25, "3": 5}
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
# drawn as quotas so that the demo's figures hold at any size. A pair that agrees, and the tie-breaker, find
# the truth (a new fracture the true model drew, or none where the site reported one: FALSE_REPORT_SHARE):
# with the grades' mix about 13 % of the read cases go to the third reader and kappa on the main question is
# about 0.7.
DISPUTE_SHARE = {1: 0.25, 2: 0.07, 3: 0.02}  # the two readers disagree on the main question
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
