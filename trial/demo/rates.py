"""The demo screening log's realism: site shares and openings, why screenings fail, who the patients are,
and how many withdraw or are lost. Demo realism, not protocol facts."""

from collections.abc import Mapping

from ..levels import LEVELS

# Share of screenings per site, largest first (the protocol's own site leads); more sites get 1/k weights.
SITE_WEIGHTS = (0.5, 0.3, 0.2)
SITE_OPENING_GAP_DAYS = 90  # each further site starts screening about a quarter later
RAMP_UP_DAYS = 120  # a site's screening rate grows over its first months
WEEKEND_ACCEPT = 0.25  # screening happens mostly on weekdays

# How often each criterion is the reason for a screen failure. Demo realism, not a protocol fact: criteria of
# other studies fail equally often, and a code not listed gets the average weight of those listed.
FAILURE_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "NCT06379243": {
        "INC1": 0.03,  # not an osteoporotic fracture (high-energy trauma)
        "INC2": 0.25,  # no marrow oedema on MRI (chronic fracture)
        "INC3": 0.20,  # more than 3 fractured levels (computed)
        "EXC1": 0.20,  # prior vertebroplasty or spinal fixation
        "EXC2": 0.14,  # malignancy or spinal infection
        "EXC3": 0.18,  # cognitive impairment or critical illness
    },
    # A retrospective review of the records (CT and MRI in the PACS): the exams' dates and the images decide
    # most exclusions.
    "NCT07306858": {
        "INC1": 0.03,  # not an osteoporotic fracture (high-energy trauma)
        "INC2": 0.30,  # CT and MRI more than 14 days apart (computed from the exams)
        "INC3": 0.05,  # a series missing from the DICOM export
        "INC4": 0.08,  # no DXA on record
        "INC5": 0.07,  # under 50 at the time of imaging (computed)
        "EXC1": 0.14,  # infection or malignancy (pathological fracture)
        "EXC2": 0.20,  # bone cement or metal hardware (an earlier vertebroplasty or fixation)
        "EXC3": 0.13,  # image quality too poor (motion, metal artefacts)
    },
}
# Screen failures among screenings: a prospective screening log, and a retrospective review of the records
# (more excluded: the records were not chosen with the criteria in mind, e.g. 412 reviewed, 136 excluded).
SCREEN_FAILURE_RATE = (0.16, 0.24)
RECORDS_FAILURE_RATE = (0.25, 0.35)
SECOND_FAILURE_SHARE = 0.10  # failures that break a second criterion too
STOPPED_ASKING_SHARE = 0.20  # failures whose later questions were left unanswered

# Fracture levels cluster at the thoracolumbar junction (T11-L2); 1 level most often, 3 rarely.
LEVEL_WEIGHTS: Mapping[str, float] = dict(
    zip(LEVELS, (0.1, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 1.6, 1.8, 2.5, 6, 12, 13, 7, 4, 2.5, 1.2), strict=True)
)  # T1 ... T12, L1 ... L5
LEVEL_COUNT_WEIGHTS = {1: 0.70, 2: 0.22, 3: 0.08}
AGE_MEAN, AGE_SD, AGE_RANGE = 72.0, 7.5, (50, 98)
# The youngest patients with a fragility fracture a screening log holds: a protocol's minimum age above it can
# be a reason for exclusion (45-49 year-olds under a minimum of 50).
YOUNGEST_SCREENED = 40

# Imaging exams, where the protocol has an imaging rule. Days between the exams of a case that meets it (CT at
# presentation, MRI a few days later, most often), and beyond the limit for one that breaks it.
EXAM_INTERVAL_WEIGHTS = {0: 20, 1: 25, 2: 18, 3: 12, 5: 10, 7: 8, 10: 4, 14: 3}
EXAM_INTERVAL_BEYOND = {(1, 7): 40, (8, 30): 40, (31, 120): 20}  # days beyond the protocol's limit
CT_FIRST_SHARE = 0.8
# A retrospective study's cases come from the records before it opened: the later exam 75 days to three
# years before (NCT07306858 collects January 2023 to September 2025 and opens in December 2025).
RECORDS_WINDOW_DAYS = (75, 3 * 365)
EXAM_DAYS_BEFORE_SCREENING = (0, 7)  # a prospective screening: the diagnostic exams of the last week
MISSING_EXAM_SHARE = 0.5  # incomplete screenings whose last exam is not registered yet (else a question)
SCANNER_MAKERS = ("SIEMENS", "GE MEDICAL SYSTEMS", "Philips", "UIH", "Canon Medical Systems")
SLICE_THICKNESS_MM = {"CT": ("0.625", "1.00", "1.25"), "MR": ("3.00", "3.50", "4.00")}
SERIES_COUNT = {
    "CT": (3, 6),
    "MR": (4, 8),
}  # CT: bone and soft-tissue kernels, reformats; MR: T1, T2, STIR...

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹"
# Two-character given names common in the patients' generation, run together and cut in pairs.
_GIVEN = {
    "female": "秀英桂英秀兰玉兰桂兰秀珍凤英玉珍玉英兰英淑珍淑英玉梅秀芳丽华美华月娥金凤",
    "male": "建国建华国华志明国强德明文华建军永康志强国平德华明华家明振华永明福生金山",
}
GIVEN_NAMES = {sex: tuple(names[i : i + 2] for i in range(0, len(names), 2)) for sex, names in _GIVEN.items()}

# Over a year of follow-up, about 3% of participants withdraw and 5% are lost (elderly patients moving in with
# family, long travel to the hospital); both grow with the time followed. Demo realism, not protocol facts.
WITHDRAWAL_PER_YEAR = 0.03
LOSS_PER_YEAR = 0.05
WITHDRAWAL_REASONS = ("Withdrew consent", "Too ill to continue", "Moved to another city")
LOSS_REASONS = ("Three calls and a letter unanswered", "Phone number no longer in service")
