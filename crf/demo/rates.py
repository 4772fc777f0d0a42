"""The demo's realism: rates, delays, ranges and the texts people write, for the casebooks of crf.demo.

Ranges and rates follow shared/domain.md; where it gives none the value is demo realism, said so beside it.
"""

from trial.levels import LEVELS

# Values a real cohort does not have, so that the risk-model workbench's multiple imputation has work on
# the demo (reports/riskmodel): demo realism, the rates of prospective vertebral-augmentation cohorts. Each
# is drawn from a stream of its own (casebook.Casebook._not_collected), independent of every other draw of
# the participant: missing completely at random, so also at random with respect to the outcome.
# A form never keyed (this EDC has no "not done" status: an exam not done is a form with no record):
NOT_DONE = {
    # DXA before the procedure not done (pain too severe to lie still, the densitometer booked out, a
    # patient operated on the day of admission): a few % of the analysed miss their lowest T-score.
    "dxa": 0.03,
    # IDEAL-IQ not done (a scanner without the sequence that week, the patient unable to stay still for the
    # extra sequence) or not analysable (motion, metal): PDFF and R2* missing together.
    "qmri": 0.04,
}
# A required value the site cannot give: its form stays a draft without it (the engine completes no form with
# a required value missing), read by the analysis dataset as any draft is.
NOT_RECORDED = {
    # The weight of a bed-bound patient with an acute fracture not measured: no BMI (1.5 %).
    ("baseline", "weight"): 0.015,
    # The pre-operative VAS not in the pain chart of the day (1.5 %).
    ("baseline", "vas_preop"): 0.015,
}
# Days from the event (or the previous form's entry) to data entry, completion, source data verification,
# signature and locking, with their weights. A few forms stay drafts for long (a value still missing).
ENTRY_LAG = {0: 45, 1: 25, 2: 12, 3: 8, 5: 5, 7: 3, 14: 2}
COMPLETION_LAG = {0: 60, 1: 12, 2: 8, 4: 8, 7: 7, 14: 5}
STUCK_DRAFT_SHARE = 0.015
SDV_LAG = {7: 10, 14: 20, 30: 30, 60: 25, 90: 15}
SIGNATURE_LAG = {1: 15, 3: 25, 7: 30, 14: 20, 30: 10}
LOCK_LAG = {14: 20, 30: 30, 60: 30, 120: 20}
ANSWER_LAG = {1: 20, 2: 20, 4: 20, 7: 15, 14: 12, 30: 8, 90: 3, 180: 2}
CLOSE_LAG = {1: 15, 3: 20, 7: 25, 14: 20, 30: 15, 60: 5}
# Queries that age: waiting months for a source document, or for the monitor's next visit. Open queries and
# their ages are what a data manager chases, so the demo has some at every age, most of them recent.
SLOW_ANSWER_SHARE, SLOW_ANSWER_DAYS = 0.10, (60, 540)
SLOW_CLOSE_SHARE, SLOW_CLOSE_DAYS = 0.06, (30, 360)
SAVES = {1: 70, 2: 22, 3: 8}  # saves before the form was complete: each one a version
INVESTIGATOR_ENTRY_SHARE = 0.2  # the site investigator keys some casebooks in place of the coordinator
MANUAL_QUERY_SHARE = 0.005  # a monitor's own question at source data verification, per completed form

PROCEDURE_LAG = {0: 30, 1: 40, 2: 20, 3: 10}  # days from enrollment
PROCEDURE_BEFORE_CONSENT_SHARE = 0.012  # a date keyed wrongly or a deviation: raises PROCEDURE_BEFORE_CONSENT
# A retrospective case's DXA is the one in its records: most often in the admission of its CT and MRI.
DXA_FROM_RECORDS_DAYS = (0, 12, -60, 60)  # mean, SD, bounds (days from the first exam)
STAY = {2: 30, 3: 35, 4: 20, 5: 15}  # days from procedure to discharge
PKP_SHARE = 0.55
UNIPEDICULAR_SHARE = 0.60
EXTRAPEDICULAR_SHARE = 0.10  # of mid-thoracic levels (narrow pedicles); about 1.5% of all levels
LEAKAGE_SHARE = {"PVP": 0.45, "PKP": 0.25}  # of patients (domain.md: PVP 40-55%, PKP 18-29%)
# Yeom type of a leaking level, drawn independently (at least one), and where each type of cement ends up.
YEOM_TYPES = {"B": 0.30, "S": 0.40, "C": 0.30, "D": 0.25}
YEOM_LOCATIONS = {
    "B": ("spinal_canal",),
    "S": ("venous",),
    "C": ("paravertebral", "paravertebral", "spinal_canal"),
    "D": ("intradiscal",),
}
CEMENT_OVER_10_SHARE = 0.004  # of levels: raises RANGE_CEMENT_VOLUME
LONG_OPERATION_SHARE = 0.003  # over 180 min: raises RANGE_OPERATIVE_TIME
TREATED_ELSEWHERE_SHARE = 0.01  # an unfractured level cemented too (prophylaxis, or a level keyed wrongly)
GENANT_MISMATCH_SHARE = 0.03  # of fracture rows: grade and height loss disagree (GENANT_HEIGHT_LOSS)
CHRONIC_LEVEL_SHARE = 0.18  # an old vertebral fracture besides the acute ones
PRIOR_FRACTURE_SHARE = 0.30
R2STAR_ARTEFACT_SHARE = 0.004  # of measured vertebrae: outside the plausible range (R2STAR_PLAUSIBLE)

GENANT_BANDS = {"0": (8.0, 19.5), "1": (20.5, 24.5), "2": (25.5, 39.5), "3": (40.5, 60.0)}
ACUTE_GRADES = {"0": 5, "1": 30, "2": 45, "3": 20}
CHRONIC_GRADES = {"1": 40, "2": 45, "3": 15}
THORACIC_MID = frozenset(LEVELS[: LEVELS.index("T11")])  # T1-T10: smaller vertebrae, less cement
LUMBAR_LOW = frozenset(("L3", "L4", "L5"))
LUMBAR_DXA = ("L1", "L2", "L3", "L4")
ROI_SETS = {
    ("L1", "L2", "L3", "L4"): 70,
    ("L1", "L2", "L3", "L4", "L5"): 15,
    ("T11", "T12", "L1", "L2", "L3", "L4"): 15,
}

# PDFF (%) of healthy L1-L4 marrow by sex and decade (Baum, Front Endocrinol 2018, in domain.md; the 50s and
# 80s are extrapolated), plus a few points for osteoporosis, which every participant here has.
PDFF_NORMS = {
    ("female", 5): (46.5, 7.5),
    ("female", 6): (48.8, 7.7),
    ("female", 7): (50.5, 8.2),
    ("female", 8): (52.0, 8.2),
    ("male", 5): (38.0, 6.9),
    ("male", 6): (40.2, 6.9),
    ("male", 7): (43.9, 7.6),
    ("male", 8): (46.0, 7.6),
}
PDFF_OSTEOPOROSIS = 3.0
# R2* (s-1): 1.5 T about 53 in osteoporosis (Wehrli 1995); 3 T has no reference, about twice is assumed.
R2STAR = {"1.5": (53.0, 8.0, (155.0, 190.0)), "3.0": (100.0, 16.0, (255.0, 320.0))}
# Approximate young-adult reference means and SDs (g/cm2) to turn T-scores into BMD per manufacturer.
BMD_REFERENCE = {
    "hologic": {"lumbar": (1.047, 0.110), "neck": (0.858, 0.120), "hip": (0.942, 0.122)},
    "ge_lunar": {"lumbar": (1.180, 0.120), "neck": (0.980, 0.120), "hip": (1.000, 0.120)},
}
DXA_DEVICES = {"hologic": ("Discovery Wi", "Horizon A"), "ge_lunar": ("Prodigy", "iDXA")}
SCANNERS = {  # manufacturer: (sequence, 3 T models, 1.5 T models, software, version)
    "ge": (
        "ideal_iq",
        ("Discovery MR750", "SIGNA Architect"),
        ("SIGNA Explorer",),
        "GE AW Server (READY View)",
        "3.2",
    ),
    "siemens": ("q_dixon", ("MAGNETOM Skyra", "MAGNETOM Prisma"), ("MAGNETOM Aera",), "syngo.via", "VB60"),
    "philips": ("mdixon_quant", ("Ingenia CX",), ("Ingenia",), "IntelliSpace Portal", "12.1"),
    "united_imaging": ("other", ("uMR 780",), ("uMR 570",), "uWS-MR", "R006"),
}
SCANNER_WEIGHTS = {"ge": 70, "siemens": 12, "philips": 8, "united_imaging": 10}
SURGEONS = ("Chen", "Lin", "Huang", "Zhou", "Wu", "Liang", "He", "Zheng", "Xie", "Luo", "Deng", "Feng")
ROI_NOTE = (
    "Mid-sagittal slice; oval ROI in the centre of each vertebral body, avoiding cortex, endplates and the "
    "basivertebral vein."
)

ANSWERS = {  # the coordinator's answer to an automatic query, by check; RANGE_* checks share the default
    "PROCEDURE_BEFORE_CONSENT": "Dates checked against the consent form and the operation note: as recorded. "
    "Reported to the PI as a protocol deviation.",
    "PROCEDURE_BEFORE_MRI": "Dates checked against the operation note and the MRI report: as recorded.",
    "LEVEL_NOT_FRACTURED": "Operation note confirms this level was cemented too (prophylactic augmentation).",
    "GENANT_HEIGHT_LOSS": "Re-read by the radiologist: grade and height loss confirmed as recorded.",
    "R2STAR_PLAUSIBLE": "Reader confirms the value on the R2* map (susceptibility artefact near the ROI).",
    "RANGE_OPERATIVE_TIME": "Confirmed from the anaesthesia record.",
    "RANGE_CEMENT_VOLUME": "Confirmed from the operation note.",
}
DEFAULT_ANSWER = "Value checked against the source document and confirmed."
MANUAL_QUERIES = {  # form: (field or group.field, the monitor's question)
    "baseline": (
        ("weight", "The nursing admission sheet gives another weight: please check the source."),
        ("vas_preop", "The pre-operative VAS is not in the pain chart of that day: where was it recorded?"),
    ),
    "dxa": (("exam_date", "Please file the DXA report in the investigator site file; date to confirm."),),
    "fracture_levels": (
        ("mri_date", "The MRI report is dated differently: please check."),
        ("fractures.height_loss", "Please confirm the height loss with the radiologist's measurement."),
    ),
    "qmri": (("vertebrae.pdff", "Please confirm this PDFF with the reader's worksheet."),),
    "procedure": (
        ("operative_time", "The operation note gives another duration: please check."),
        ("levels.cement_volume", "Please confirm the cement volume from the operation note."),
    ),
    "discharge": (("vas_discharge", "Please confirm the discharge VAS from the pain chart."),),
}
MANUAL_ANSWER = "Checked against the source document: the value is as recorded."
CLOSED_BY_MONITOR = "Checked at the monitoring visit: response accepted, closed."  # the monitor's closing
