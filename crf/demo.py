"""Synthetic CRF data for the demo: the forms of every enrolled participant, as the services would store them.

`crf_plan` is a pure function of the participants, a seed and today's date (plain rows, no database). Each
participant draws from a random stream of its own (seed and study ID), so a casebook does not depend on who
else is planned with it: chunks plan the same as the whole, and a second run plans nothing new. `crf_rows`
turns a plan into table rows, `crf_write` bulk-inserts them, and `crf_seed` ties these to the study's
participants that have no form yet.

What is stored is what crf_save and the life-cycle services would have stored: data as clean_data returns it,
one automatic query per soft warning that evaluate reports (with the other forms as context), complete forms
with no missing value or failing hard check, a signature with the record version and data fingerprint for
every signed or locked form. Dates follow a casebook's real order: the diagnostic MRI before screening, the
procedure 0-3 days after enrollment, discharge 2-5 days later; forms are entered, completed, verified by the
monitor, signed by the site investigator and locked by the data manager with realistic delays, so older
participants are mostly locked and the last weeks' ones are drafts or not started. Ranges and rates follow
shared/domain.md; where it gives none the value is demo realism, said so beside it.
"""

import datetime
import functools
import gc
import json
import multiprocessing
import os
import random
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef

from trial.audit import audit_context
from trial.clock import site_today
from trial.demo import DEMO_REASON, demo_staff
from trial.hooks import DemoAdded
from trial.levels import LEVELS, level_index
from trial.models import Participant, ParticipantStatus, ProtocolVersion, Role, Study

from .engine.definitions import FormDef, form_definitions
from .engine.paths import flatten, group_keys
from .engine.validate import CheckContext, clean_data, evaluate
from .models import (
    DataQuery,
    FormRecord,
    FormStatus,
    QueryAction,
    QueryMessage,
    QueryStatus,
    Signature,
    SignatureMeaning,
)
from .services import data_fingerprint

# Rows per INSERT statement. A batch travels as one JSON document that PostgreSQL unpacks with
# json_to_recordset; 2,000 form records (about 1 kB each) keep that document and its unpacked rows within the
# default work_mem of 4 MB (nothing spills to disk), while 56,000 participants take a few hundred statements.
BATCH_SIZE = 2000
# Participants planned and written together: bounds the memory of a plan (a few MB), not a database limit,
# and small enough that the planning workers and PostgreSQL overlap from the start.
CHUNK_SIZE = 1000
MAX_WORKERS = 2

DEMO_COMMAND = "seed_demo"  # the audit context of trial.demo's rows, and of these
ENTRY, MONITOR, INVESTIGATOR, DATA_MANAGER = "entry", Role.MONITOR, Role.INVESTIGATOR, Role.DATA_MANAGER
CLOSED_BY_MONITOR = "Checked at the monitoring visit: response accepted, closed."

# --- rates and delays: demo realism where shared/domain.md gives none ---------------------------------------

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


# --- the plan -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolled:
    """What the plan needs of a participant; `key` is opaque to the plan (the writer's participant id)."""

    key: int
    study_id: str
    site: str
    time_zone: str
    age: int
    sex: str
    fracture_levels: tuple[str, ...]
    screening_date: datetime.date
    consent_date: datetime.date
    enrollment_date: datetime.date
    status: str = ParticipantStatus.ENROLLED
    status_date: datetime.date | None = None
    forms: tuple[str, ...] = ()  # the codes its protocol version enables


@dataclass(frozen=True)
class QueryStep:
    action: str  # QueryAction
    role: str  # "" for an edit check, else ENTRY, MONITOR
    at: datetime.datetime
    text: str


@dataclass(frozen=True)
class QueryPlan:
    field_path: str
    check_code: str
    auto: bool
    steps: tuple[QueryStep, ...]

    @property
    def status(self) -> str:
        last = self.steps[-1].action
        return {QueryAction.ANSWER: QueryStatus.ANSWERED, QueryAction.CLOSE: QueryStatus.CLOSED}.get(
            last, QueryStatus.OPEN
        )


@dataclass(frozen=True)
class FormPlan:
    participant: int  # Enrolled.key
    site: str
    form_code: str
    form_version: str
    status: str
    data: dict
    version: int
    entered_by: str  # Role.COORDINATOR or Role.INVESTIGATOR of the site
    created_at: datetime.datetime
    updated_at: datetime.datetime
    completed_at: datetime.datetime | None = None
    verified_at: datetime.datetime | None = None
    signed_at: datetime.datetime | None = None
    signed_version: int | None = None  # the record version the signature covers
    locked_at: datetime.datetime | None = None
    queries: tuple[QueryPlan, ...] = ()


def crf_plan(participants: Iterable[Enrolled], *, seed: int, today: datetime.date) -> list[FormPlan]:
    """The forms of each participant as of `today` (every event strictly before it), in participant order.

    A participant with nothing to enter yet (enrolled in the last days) gets no row; its forms come on a later
    run. Raises AssertionError if a drawn casebook is not what the services would accept (a generator bug).
    """
    forms = form_definitions()
    plans: list[FormPlan] = []
    for person in participants:
        enabled = [
            forms[code] for code in sorted(person.forms, key=lambda c: forms[c].order) if code in forms
        ]
        plans += _Casebook(person, seed=seed, today=today).plan(enabled)
    return plans


def _weighted(rng: random.Random, weights: Mapping) -> object:
    """One key of `weights`, drawn in proportion to its value (random.choices, without its list copies)."""
    x = rng.random() * sum(weights.values())
    for value, weight in weights.items():
        x -= weight
        if x < 0:
            return value
    return value


def _gauss(rng: random.Random, mean: float, sd: float, low: float, high: float) -> float:
    """A normal draw redrawn until it lies in [low, high]: a truncated normal, with no pile at the bounds."""
    for _ in range(100):
        value = rng.gauss(mean, sd)
        if low <= value <= high:
            return value
    return min(max(mean, low), high)


@functools.lru_cache(maxsize=8192)
def _midnight(time_zone: str, day: datetime.date) -> datetime.datetime:
    """The start of `day` at a site, in UTC (cached: a whole study's events fall on a few thousand days)."""
    local = datetime.datetime.combine(day, datetime.time(), tzinfo=zoneinfo.ZoneInfo(time_zone))
    return local.astimezone(datetime.UTC)


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@dataclass
class _Site:
    """A site's equipment and surgeons: drawn from the seed and the site code, the same for its patients."""

    dxa: str
    dxa_model: str
    scanner: str
    model_3t: str
    model_15t: str
    roi_set: tuple[str, ...]
    surgeons: tuple[str, ...]

    @classmethod
    def draw(cls, seed: int, code: str) -> "_Site":
        rng = random.Random(f"{seed}:site:{code}")
        dxa = rng.choice(("hologic", "hologic", "ge_lunar"))
        scanner = _weighted(rng, SCANNER_WEIGHTS)
        _seq, models_3t, models_15t, _sw, _v = SCANNERS[scanner]
        return cls(
            dxa=dxa,
            dxa_model=rng.choice(DXA_DEVICES[dxa]),
            scanner=scanner,
            model_3t=rng.choice(models_3t),
            model_15t=rng.choice(models_15t),
            roi_set=_weighted(rng, ROI_SETS),
            surgeons=tuple(f"Dr {name}" for name in rng.sample(SURGEONS, 3)),
        )


_SITES: dict[tuple[int, str], _Site] = {}


def _site(seed: int, code: str) -> _Site:
    key = (seed, code)
    if key not in _SITES:
        _SITES[key] = _Site.draw(seed, code)
    return _SITES[key]


class _Casebook:
    """One participant's story (dates, fractures, treatment) and the forms that record it."""

    def __init__(self, person: Enrolled, *, seed: int, today: datetime.date):
        self.p, self.today, self.seed = person, today, seed
        self.rng = random.Random(f"{seed}:{person.study_id}")
        self.site = _site(seed, person.site)
        self._story()

    # The clinical story, shared by the forms.
    def _story(self) -> None:
        rng, p = self.rng, self.p
        self.mri_day = p.screening_date - _days(_weighted(rng, {0: 25, 1: 30, 2: 20, 3: 12, 5: 8, 7: 5}))
        self.onset_day = self.mri_day - _days(round(_gauss(rng, 10, 8, 0, 60)))
        self.procedure_day = p.enrollment_date + _days(_weighted(rng, PROCEDURE_LAG))
        if rng.random() < PROCEDURE_BEFORE_CONSENT_SHARE:
            # Dated before consent (a date keyed wrongly, or a deviation); the MRI still came first.
            self.procedure_day = p.consent_date - _days(rng.randint(1, 2))
            self.mri_day = min(self.mri_day, self.procedure_day)
            self.onset_day = min(self.onset_day, self.mri_day)
        self.discharge_day = self.procedure_day + _days(_weighted(rng, STAY))
        self.dxa_day = min(p.enrollment_date + _days(rng.randint(-1, 2)), self.procedure_day + _days(2))
        self.qmri_day = (
            self.mri_day
            if rng.random() < 0.65
            else min(self.mri_day + _days(rng.randint(1, 3)), max(self.procedure_day, self.mri_day))
        )
        self.acute = tuple(p.fracture_levels) or ("L1",)
        self.chronic: tuple[str, ...] = ()
        if rng.random() < CHRONIC_LEVEL_SHARE:
            free = [x for x in LEVELS if x not in self.acute]
            weights = [1 + 6 * (level_index(x) in range(9, 15)) for x in free]  # T10-L3 most often
            self.chronic = (rng.choices(free, weights=weights)[0],)
        self.fall = _weighted(rng, {"low_energy_fall": 70, "none_remembered": 25, "other": 5})
        self._fall_other = rng.choice(("Lifting a heavy object", "Coughing", "Bending forward"))
        self.technique = "PKP" if rng.random() < PKP_SHARE else "PVP"
        self.male = p.sex == "male"

    def _moment(self, day: datetime.date, after: datetime.datetime | None = None) -> datetime.datetime:
        """A working-hours time on `day` at the site, in UTC; a few minutes after `after` if need be."""
        minutes = 8 * 60 + 30 + int(self.rng.random() * 9 * 60)
        moment = _midnight(self.p.time_zone, day) + datetime.timedelta(minutes=minutes)
        if after is not None and moment <= after:
            moment = after + datetime.timedelta(minutes=self.rng.randint(2, 30))
        return moment

    # --- the forms' data -----------------------------------------------------------------------------------

    def baseline(self) -> dict:
        rng, male = self.rng, self.male
        height = _gauss(rng, 165 if male else 153, 6.0, 138, 185)
        bmi = _gauss(rng, 22.0, 3.5, 15.5, 34.0)
        data = {
            "onset_date": self.onset_day.isoformat(),
            "height": round(height, 1),
            "weight": round(bmi * (height / 100) ** 2, 1),
        }
        # Smoking ~12% overall, mostly men: about 45% of men and 3% of women have ever smoked.
        ever = rng.random() < (0.45 if male else 0.03)
        data["smoking"] = "never" if not ever else ("current" if rng.random() < 0.5 else "former")
        if data["smoking"] == "current":
            data["cigarettes_per_day"] = _weighted(rng, {5: 15, 10: 35, 15: 15, 20: 30, 30: 5})
        regular, occasional = (0.10, 0.35) if male else (0.005, 0.08)
        draw = rng.random()
        data["alcohol"] = (
            "regular" if draw < regular else "occasional" if draw < regular + occasional else "none"
        )
        data["diabetes"] = rng.random() < 0.20
        if data["diabetes"]:
            data["diabetes_type"] = _weighted(rng, {"type2": 96, "type1": 1, "other": 3})
        data["glucocorticoids"] = rng.random() < 0.05
        if data["glucocorticoids"]:
            data["gc_dose"] = _weighted(rng, {2.5: 10, 5.0: 40, 7.5: 20, 10.0: 20, 20.0: 10})
            data["gc_duration"] = _weighted(rng, {2: 5, 3: 10, 6: 25, 12: 25, 24: 15, 60: 15, 120: 5})
        sites = []
        if self.chronic:  # the old vertebral fracture on the MRI is a prior fragility fracture
            sites.append("vertebra")
        elif rng.random() < (PRIOR_FRACTURE_SHARE - CHRONIC_LEVEL_SHARE) / (1 - CHRONIC_LEVEL_SHARE):
            sites.append(
                _weighted(rng, {"distal_radius": 45, "hip": 20, "proximal_humerus": 15, "other": 20})
            )
        if sites and rng.random() < 0.10:
            sites.append(
                _weighted(rng, {"distal_radius": 45, "hip": 20, "proximal_humerus": 15, "other": 20})
            )
        data["prior_fracture"] = bool(sites)
        if sites:
            data["prior_fracture_sites"] = sorted(set(sites))
            if "other" in sites:
                data["prior_fracture_other"] = rng.choice(("Rib", "Pelvis", "Ankle"))
        parent = rng.random()
        if parent < 0.5:
            data["parent_hip_fracture"] = parent < 0.03
        # About a quarter were treated before the index fracture: most still on it, some had stopped.
        treated = rng.random() < 0.25
        current = treated and rng.random() < 0.65
        stopped = treated and (not current or rng.random() < 0.15)
        data["prior_treatment"] = self._treatment(stopped)
        data["current_treatment"] = self._treatment(current)
        for key in ("prior_treatment", "current_treatment"):
            if "other" in data[key]:
                data[f"{key}_other"] = "Xianling Gubao capsules (traditional Chinese medicine)"
        if self.fall == "low_energy_fall":  # the fall that caused the fracture counts
            falls = _weighted(rng, {1: 65, 2: 22, 3: 9, 4: 2.5, 6: 1.3, 12: 0.2})
        else:
            falls = _weighted(rng, {0: 70, 1: 20, 2: 8, 3: 2})
        data["falls_past_year"] = falls
        old = self.p.age >= 80
        data["outdoor_activity"] = rng.random() < (0.30 if old else 0.50)
        data["ambulation"] = _weighted(
            rng,
            {"independent": 55, "walking_aid": 32, "assisted": 11, "bedridden": 2}
            if old
            else {"independent": 78, "walking_aid": 17, "assisted": 4, "bedridden": 1},
        )
        comorbidities = [
            code
            for code, share in (
                ("hypertension", 0.50),
                ("coronary", 0.15),
                ("cerebrovascular", 0.12),
                ("copd", 0.07 if male else 0.04),
                ("ckd", 0.05),
                ("rheumatoid_arthritis", 0.02),
                ("hyperthyroidism", 0.01),
                ("other", 0.06),
            )
            if rng.random() < share
        ]
        data["comorbidities"] = comorbidities or ["none"]
        if "other" in comorbidities:
            data["comorbidities_other"] = rng.choice(
                ("Parkinson's disease", "Knee osteoarthritis", "Atrial fibrillation", "Chronic gastritis")
            )
        data["vas_preop"] = round(_gauss(rng, 87, 8, 50, 100))
        return data

    def _treatment(self, treated: bool) -> list[str]:
        if not treated:
            return ["none"]
        rng = self.rng
        chosen = {
            code
            for code, share in (
                ("calcium_vitamin_d", 0.75),
                ("bisphosphonate", 0.30),
                ("active_vitamin_d", 0.25),
                ("calcitonin", 0.06),
                ("denosumab", 0.04),
                ("teriparatide", 0.03),
                ("raloxifene", 0.02),
                ("other", 0.03),
            )
            if rng.random() < share
        }
        return sorted(chosen or {"calcium_vitamin_d"})

    def dxa_form(self) -> dict:
        rng, site = self.rng, self.site
        manufacturer = site.dxa if rng.random() < 0.95 else "other"
        data: dict = {"exam_date": self.dxa_day.isoformat(), "manufacturer": manufacturer}
        if manufacturer == "other":
            data["manufacturer_other"] = "Medilink"
        elif rng.random() < 0.8:
            data["model"] = site.dxa_model
        fractured = set(self.acute) | set(self.chronic)
        excluded = [x for x in LUMBAR_DXA if x in fractured]
        z = rng.gauss(0, 1)
        data["lumbar_evaluable"] = len(LUMBAR_DXA) - len(excluded) >= 2 and rng.random() < 0.97
        reference = BMD_REFERENCE.get(manufacturer, BMD_REFERENCE["hologic"])
        if data["lumbar_evaluable"]:
            if excluded:
                data["lumbar_excluded"] = excluded
            t = round(min(max(-3.0 + (0.3 if self.male else 0) + 0.8 * z, -6.5), 2.5), 1)  # BMD >= 0.2
            data["t_lumbar"] = t
            if rng.random() < 0.8:
                data["bmd_lumbar"] = round(reference["lumbar"][0] + t * reference["lumbar"][1], 3)
        data["hip_scanned"] = rng.random() < 0.97
        if data["hip_scanned"]:
            data["hip_side"] = "left" if rng.random() < 0.7 else "right"
            # Correlated with the spine (r ~0.6); bounded so that the BMD stays above the form's 0.2 g/cm2.
            neck = round(min(max(-2.6 + 0.7 * (0.6 * z + 0.8 * rng.gauss(0, 1)), -5.2), 2.0), 1)
            hip = round(min(max(neck + 0.3 + 0.3 * rng.gauss(0, 1), -5.5), 2.5), 1)
            data["t_femoral_neck"], data["t_total_hip"] = neck, hip
            if rng.random() < 0.8:
                data["bmd_femoral_neck"] = round(reference["neck"][0] + neck * reference["neck"][1], 3)
                data["bmd_total_hip"] = round(reference["hip"][0] + hip * reference["hip"][1], 3)
        return data

    def _fracture_row(self, level: str, acute: bool) -> dict:
        rng = self.rng
        grade = _weighted(rng, ACUTE_GRADES if acute else CHRONIC_GRADES)
        band = grade
        if rng.random() < GENANT_MISMATCH_SHARE:  # graded by eye, measured otherwise: one band off
            band = rng.choice([g for g in GENANT_BANDS if abs(int(g) - int(grade)) == 1])
        low, high = GENANT_BANDS[band]
        row = {
            "level": level,
            "acuity": "acute" if acute else "chronic",
            "oedema": acute,
            "genant_grade": grade,
            "height_loss": round(rng.uniform(low, high), 1),
            "morphology": _weighted(rng, {"wedge": 60, "biconcave": 25, "crush": 15}),
        }
        if acute:
            row["posterior_wall"] = rng.random() < 0.10
            row["cleft"] = rng.random() < (0.20 if grade == "3" else 0.06)
            row["cause"] = self.fall
            if self.fall == "other":
                row["cause_other"] = self._fall_other
        return row

    def fracture_levels(self) -> dict:
        rows = [self._fracture_row(x, True) for x in self.acute] + [
            self._fracture_row(x, False) for x in self.chronic
        ]
        return {
            "mri_date": self.mri_day.isoformat(),
            "fractures": sorted(rows, key=lambda r: level_index(r["level"])),
        }

    def qmri_form(self) -> dict:
        rng, site = self.rng, self.site
        field_strength = "3.0" if rng.random() < 0.85 else "1.5"
        sequence, _m3, _m15, software, version = SCANNERS[site.scanner]
        data = {
            "exam_date": self.qmri_day.isoformat(),
            "field_strength": field_strength,
            "manufacturer": site.scanner,
            "scanner_model": site.model_3t if field_strength == "3.0" else site.model_15t,
            "sequence": sequence,
            "reader": f"Reader {self.p.site}-{rng.randint(1, 2)}",
            "software": software,
            "software_version": version,
        }
        if rng.random() < 0.8:
            data["roi_notes"] = ROI_NOTE
        decade = min(max(self.p.age // 10, 5), 8)
        mean, sd = PDFF_NORMS[(self.p.sex, decade)]
        person_pdff = rng.gauss(mean + PDFF_OSTEOPOROSIS, sd)
        r2_mean, r2_sd, artefact = R2STAR[field_strength]
        person_r2 = _gauss(rng, r2_mean, r2_sd, r2_mean * 0.5, r2_mean * 1.6)
        rows = []
        for level in site.roi_set:
            pdff = person_pdff + 1.0 * (level_index(level) - level_index("L1")) + rng.gauss(0, 2.5)
            r2 = person_r2 * rng.uniform(0.92, 1.08)
            if level in self.acute:  # oedema replaces marrow fat, and the trabeculae are broken
                pdff, r2 = pdff - rng.uniform(12, 25), r2 * 0.75
            elif level in self.chronic:
                pdff += 3
            if rng.random() < R2STAR_ARTEFACT_SHARE:
                r2 = rng.uniform(*artefact)
            rows.append(
                {
                    "level": level,
                    "pdff": round(min(max(pdff, 2.0), 95.0), 1),
                    "r2star": round(r2, 1),
                    "fractured": level in self.acute or level in self.chronic,
                    "cemented": False,  # a prior augmentation excludes from the study (EXC1)
                }
            )
        data["vertebrae"] = rows
        return data

    def procedure_form(self) -> dict:
        rng, technique = self.rng, self.technique
        treated = list(self.acute)
        if len(treated) < 3 and rng.random() < TREATED_ELSEWHERE_SHARE:
            neighbours = [
                LEVELS[i]
                for i in (level_index(treated[0]) - 1, level_index(treated[-1]) + 1)
                if 0 <= i < len(LEVELS) and LEVELS[i] not in self.acute + self.chronic
            ]
            if neighbours:
                treated.append(rng.choice(neighbours))
        leaks = rng.random() < LEAKAGE_SHARE[technique]
        leaking = {rng.choice(treated)} if leaks else set()
        leaking |= {x for x in treated if leaks and rng.random() < 0.4}
        usual_approach = "unipedicular" if rng.random() < UNIPEDICULAR_SHARE else "bipedicular"
        levels = []
        for level in sorted(treated, key=level_index):
            approach = usual_approach if rng.random() < 0.9 else rng.choice(("unipedicular", "bipedicular"))
            if level in THORACIC_MID and rng.random() < EXTRAPEDICULAR_SHARE:
                approach = "extrapedicular"
            base = 2.6 if level in THORACIC_MID else 4.2 if level in LUMBAR_LOW else 3.5
            base += (1.2 if approach == "bipedicular" else 0) + (0.5 if technique == "PKP" else 0)
            volume = _gauss(rng, base, 0.9, 1.5, 9.8)
            if rng.random() < CEMENT_OVER_10_SHARE:
                volume = rng.uniform(10.5, 13.0)
            row: dict = {"level": level, "approach": approach, "cement_volume": round(volume, 1)}
            if technique == "PKP":
                row["balloon"] = rng.random() < 0.98
            row["leakage"] = level in leaking
            if level in leaking:
                types = [t for t, share in YEOM_TYPES.items() if rng.random() < share] or ["S"]
                row["leakage_type"] = types
                row["leakage_location"] = sorted({rng.choice(YEOM_LOCATIONS[t]) for t in types})
                row["leakage_symptomatic"] = rng.random() < (
                    0.10 if "spinal_canal" in row["leakage_location"] else 0.01
                )
            levels.append(row)
        minutes = (23 if technique == "PVP" else 30) + 12 * (len(levels) - 1)
        minutes += 8 * any(r["approach"] == "bipedicular" for r in levels)
        minutes = round(_gauss(rng, minutes, 10 if technique == "PVP" else 12, 10, 170))
        if rng.random() < LONG_OPERATION_SHARE:
            minutes = rng.randint(185, 240)
        complications = [
            code
            for code, share in (
                ("cardiopulmonary", 0.015),
                ("cement_embolism", 0.003),
                ("neuro_deficit", 0.002),
                ("bleeding", 0.003),
                ("other", 0.005),
            )
            if rng.random() < share
        ]
        data = {
            "procedure_date": self.procedure_day.isoformat(),
            "technique": technique,
            "anaesthesia": _weighted(rng, {"local": 70, "local_sedation": 22, "general": 8}),
            "operator": rng.choice(self.site.surgeons),
            "guidance": _weighted(rng, {"c_arm": 75, "biplane": 20, "ct": 5}),
            "cement_type": "pmma" if rng.random() < 0.97 else "calcium_phosphate",
            "operative_time": minutes,
            "intraop_complications": complications or ["none"],
            "levels": levels,
        }
        if "other" in complications:
            data["intraop_complications_other"] = rng.choice(("Vasovagal reaction", "Transient hypertension"))
        return data

    def discharge_form(self, vas_preop: int) -> dict:
        rng = self.rng
        complications = [
            code
            for code, share in (
                ("pneumonia", 0.02),
                ("urinary_infection", 0.015),
                ("delirium", 0.015),
                ("wound", 0.005),
                ("vte", 0.005),
                ("cardiovascular", 0.005),
                ("new_fracture", 0.003),
                ("cement_embolism", 0.001),
                ("neuro_deficit", 0.001),
                ("other", 0.005),
            )
            if rng.random() < share
        ]
        medication = {
            code
            for code, share in (
                ("calcium_vitamin_d", 0.85),
                ("active_vitamin_d", 0.40),
                ("bisphosphonate", 0.45),
                ("calcitonin", 0.20),
                ("denosumab", 0.08),
                ("teriparatide", 0.06),
                ("other", 0.02),
            )
            if rng.random() < share
        }
        if rng.random() < 0.05:
            medication = set()
        data = {
            "discharge_date": self.discharge_day.isoformat(),
            "vas_discharge": round(_gauss(rng, 25, 12, 0, vas_preop)),
            "ambulation": _weighted(
                rng, {"independent": 55, "walking_aid": 35, "assisted": 9, "bedridden": 1}
            ),
            "complications": complications or ["none"],
            "medication": sorted(medication) or ["none"],
            "destination": _weighted(
                rng, {"home": 88, "rehabilitation": 7, "care_home": 3, "other_hospital": 2}
            ),
        }
        if "other" in complications:
            data["complications_other"] = rng.choice(("Urinary retention", "Constipation"))
        if "other" in medication:
            data["medication_other"] = "Xianling Gubao capsules (traditional Chinese medicine)"
        if rng.random() < 0.9:
            data["brace"] = rng.random() < 0.6
        return data

    # --- the life cycle ------------------------------------------------------------------------------------

    def _event_day(self, code: str) -> datetime.date:
        """The day a form's data exists: the exam or event it records, or enrollment."""
        return {
            "baseline": self.p.enrollment_date,
            "dxa": self.dxa_day,
            "fracture_levels": self.p.enrollment_date,
            "qmri": max(self.qmri_day, self.p.enrollment_date),
            "procedure": self.procedure_day,
            "discharge": self.discharge_day,
        }.get(code, self.p.enrollment_date)

    def _draw(self, code: str) -> dict:
        draw = {
            "baseline": self.baseline,
            "dxa": self.dxa_form,
            "fracture_levels": self.fracture_levels,
            "qmri": self.qmri_form,
            "procedure": self.procedure_form,
            "discharge": lambda: self.discharge_form(self._vas_preop),
        }
        return draw[code]()

    def plan(self, forms: Sequence[FormDef]) -> list[FormPlan]:
        rng, p, today = self.rng, self.p, self.today
        # Draw every form's data first, whatever gets entered: the streams stay aligned across dates.
        self._vas_preop = 87
        drawn = {}
        for form in forms:
            drawn[form.code] = self._draw(form.code)
            if form.code == "baseline":
                self._vas_preop = drawn[form.code]["vas_preop"]
        self._entered_by = Role.INVESTIGATOR if rng.random() < INVESTIGATOR_ENTRY_SHARE else Role.COORDINATOR
        stopped = p.status_date if p.status == ParticipantStatus.WITHDRAWN else None
        # Forms are keyed in protocol order: a form's entry is never before the previous form's.
        entries: dict[str, datetime.datetime] = {}
        completions: dict[str, datetime.datetime | None] = {}
        last: datetime.datetime | None = None
        day = p.enrollment_date
        for form in forms:
            day = max(day, self._event_day(form.code)) + _days(_weighted(rng, ENTRY_LAG))
            stuck = rng.random() < STUCK_DRAFT_SHARE
            done_day = day + _days(_weighted(rng, COMPLETION_LAG))
            if day >= today or (stopped is not None and day >= stopped):
                break  # not started, nor any later form
            last = entries[form.code] = self._moment(day, after=last)
            completions[form.code] = (
                None if stuck or done_day >= today else self._moment(done_day, after=last)
            )
        data = {}
        for form in forms:
            if form.code not in entries:
                continue
            raw = drawn[form.code]
            if completions[form.code] is None and rng.random() < 0.6:
                raw = self._trim(form, raw)
            # Stored as crf_save stores it: clean_data's output (derived BMI, choices in definition order).
            clean, findings = clean_data(form, raw)
            if findings.errors:
                raise AssertionError(f"drew {form.code} data that cannot be saved: {findings.errors}")
            data[form.code] = clean
        context_base = {"today": today, "consent_date": p.consent_date, "enrollment_date": p.enrollment_date}
        plans = []
        for form in forms:
            if form.code not in entries:
                continue
            others = {code: value for code, value in data.items() if code != form.code}
            findings = evaluate(form, data[form.code], CheckContext(**context_base, other_forms=others))
            if completions[form.code] and findings.incomplete:
                raise AssertionError(f"drew a complete {form.code} that is incomplete: {findings.incomplete}")
            plans.append(
                self._life(form, data[form.code], entries[form.code], completions[form.code], findings)
            )
        return self._lock(plans, forms)

    def _trim(self, form: FormDef, data: dict) -> dict:
        """A draft still missing one to three values (never one that another value depends on)."""
        specs = [*form.fields, *(spec for group in form.groups for spec in group.fields)]
        referenced = {c.code for spec in specs for c in (spec.show_if, spec.required_if) if c is not None}
        candidates = [
            spec.code
            for spec in form.fields
            if spec.code in data and not spec.derived and spec.code not in referenced
        ]
        if not candidates:
            return data
        dropped = set(self.rng.sample(candidates, min(len(candidates), self.rng.randint(1, 3))))
        return {key: value for key, value in data.items() if key not in dropped}

    def _life(self, form, data, entered, completed, findings) -> FormPlan:
        rng, today = self.rng, self.today
        queries = [self._auto_query(w, entered) for w in findings.warnings]
        status, verified = FormStatus.DRAFT, None
        if completed is not None:
            status = FormStatus.COMPLETE
            sdv_day = completed.date() + _days(_weighted(rng, SDV_LAG))
            if sdv_day < today and rng.random() < MANUAL_QUERY_SHARE:
                manual = self._manual_query(form, data, self._moment(sdv_day, after=completed))
                if manual:
                    queries.append(manual)
            if all(q.status == QueryStatus.CLOSED for q in queries):
                verify_day = max([sdv_day] + [q.steps[-1].at.date() for q in queries])
                if verify_day < today:
                    status, verified = FormStatus.VERIFIED, self._moment(verify_day, after=completed)
                    for q in queries:
                        verified = max(verified, q.steps[-1].at + datetime.timedelta(minutes=5))
        signed = None
        if verified is not None:
            sign_day = verified.date() + _days(_weighted(rng, SIGNATURE_LAG))
            if sign_day < today:
                status, signed = FormStatus.SIGNED, self._moment(sign_day, after=verified)
        saves = _weighted(rng, SAVES)  # each save a version; then one per step of the life cycle
        version = saves + (completed is not None) + (verified is not None) + (signed is not None)
        return FormPlan(
            participant=self.p.key,
            site=self.p.site,
            form_code=form.code,
            form_version=form.version,
            status=status,
            data=data,
            version=version,
            entered_by=self._entered_by,
            created_at=entered,
            updated_at=max(t for t in (entered, completed, verified, signed) if t is not None),
            completed_at=completed,
            verified_at=verified,
            signed_at=signed,
            signed_version=version if signed else None,
            queries=tuple(queries),
        )

    def _steps(self, raised: datetime.datetime, answer: str) -> list[QueryStep]:
        """Answer (coordinator) and close (monitor) after realistic delays, while they are before today."""
        rng, steps = self.rng, []
        answer_day = raised.date() + _days(_weighted(rng, ANSWER_LAG))
        close_day = answer_day + _days(_weighted(rng, CLOSE_LAG))
        draw = rng.random()
        if draw < SLOW_ANSWER_SHARE:
            answer_day += _days(rng.randint(*SLOW_ANSWER_DAYS))
            close_day = answer_day + _days(_weighted(rng, CLOSE_LAG))
        elif draw < SLOW_ANSWER_SHARE + SLOW_CLOSE_SHARE:
            close_day += _days(rng.randint(*SLOW_CLOSE_DAYS))
        if answer_day < self.today:
            answered = self._moment(answer_day, after=raised)
            steps.append(QueryStep(QueryAction.ANSWER, ENTRY, answered, answer))
            if close_day < self.today:
                steps.append(
                    QueryStep(
                        QueryAction.CLOSE, MONITOR, self._moment(close_day, after=answered), CLOSED_BY_MONITOR
                    )
                )
        return steps

    def _auto_query(self, warning, entered: datetime.datetime) -> QueryPlan:
        raised = entered + datetime.timedelta(seconds=1)
        answer = ANSWERS.get(warning.check, DEFAULT_ANSWER)
        steps = [QueryStep(QueryAction.RAISE, "", raised, warning.message), *self._steps(raised, answer)]
        return QueryPlan(field_path=warning.path, check_code=warning.check, auto=True, steps=tuple(steps))

    def _manual_query(self, form: FormDef, data: dict, raised: datetime.datetime) -> QueryPlan | None:
        choices = []
        for path, text in MANUAL_QUERIES.get(form.code, ()):
            group_code, _dot, code = path.partition(".")
            group = form.group(group_code) if code else None
            if group is None and path in data:
                choices.append((path, text))
            elif group is not None:
                choices += [
                    (f"{group.code}[{row[group.key]}].{code}", text)
                    for row in data.get(group.code, [])
                    if code in row
                ]
        if not choices:
            return None
        path, text = self.rng.choice(choices)
        steps = [QueryStep(QueryAction.RAISE, MONITOR, raised, text), *self._steps(raised, MANUAL_ANSWER)]
        return QueryPlan(field_path=path, check_code="", auto=False, steps=tuple(steps))

    def _lock(self, plans: list[FormPlan], forms: Sequence[FormDef]) -> list[FormPlan]:
        """The data manager locks a casebook once every form of it is signed."""
        if len(plans) < len(forms) or any(plan.signed_at is None for plan in plans):
            return plans
        lock_day = max(plan.signed_at for plan in plans).date() + _days(_weighted(self.rng, LOCK_LAG))
        if lock_day >= self.today:
            return plans
        locked = self._moment(lock_day, after=max(plan.signed_at for plan in plans))
        return [
            _replace(
                plan, status=FormStatus.LOCKED, locked_at=locked, updated_at=locked, version=plan.version + 1
            )
            for plan in plans
        ]


def _replace(plan: FormPlan, **changes) -> FormPlan:
    return FormPlan(**{**plan.__dict__, **changes})


# --- the database side -------------------------------------------------------------------------------------


@dataclass
class CrfSeedResult:
    participants: int = 0  # participants given forms by this run
    records: Counter = field(default_factory=Counter)  # by status
    queries: Counter = field(default_factory=Counter)  # by status
    signatures: int = 0

    def add(self, other: "CrfSeedResult") -> None:
        self.participants += other.participants
        self.records.update(other.records)
        self.queries.update(other.queries)
        self.signatures += other.signatures


def _stamp(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def crf_rows(plan: Sequence[FormPlan], *, users: Mapping[tuple[str, str], tuple[int, str]]) -> dict:
    """The rows of a plan by model, as dicts of column values; pure, so it can run in a worker process.

    `users` maps (role, site code or "*") to (user id, printed name). Rows name their record by participant
    and form code, and their query by record, field and check: unique among seeded rows (one record per form,
    one automatic query per check and field, at most one manual query per record), so the writer resolves
    them with a join and needs no ids from the database.
    """

    def user(role: str, site: str) -> tuple[int, str]:
        return users[(role, "*")] if role in (MONITOR, DATA_MANAGER) else users[(role, site)]

    rows = {FormRecord: [], Signature: [], DataQuery: [], QueryMessage: []}
    for form in plan:
        record = {"participant_id": form.participant, "form_code": form.form_code}
        values = flatten(form.data, group_keys(form_definitions()[form.form_code])) if form.queries else {}
        rows[FormRecord].append(
            {
                **record,
                "form_version": form.form_version,
                "status": form.status,
                "data": form.data,
                "version": form.version,
                "created_at": _stamp(form.created_at),
                "updated_at": _stamp(form.updated_at),
                "updated_by_id": user(form.entered_by, form.site)[0],
                "completed_at": _stamp(form.completed_at),
                "verified_by_id": user(MONITOR, form.site)[0] if form.verified_at else None,
                "verified_at": _stamp(form.verified_at),
                "locked_by_id": user(DATA_MANAGER, form.site)[0] if form.locked_at else None,
                "locked_at": _stamp(form.locked_at),
            }
        )
        if form.signed_at:
            signer, printed_name = user(INVESTIGATOR, form.site)
            rows[Signature].append(
                {
                    **record,
                    "signer_id": signer,
                    "printed_name": printed_name,
                    "meaning": SignatureMeaning.APPROVAL,
                    "signed_at": _stamp(form.signed_at),
                    "record_version": form.signed_version,
                    "data_sha256": data_fingerprint(form.data),
                }
            )
        for query in form.queries:
            key = {**record, "field_path": query.field_path, "check_code": query.check_code}
            rows[DataQuery].append(
                {
                    **key,
                    "auto": query.auto,
                    "status": query.status,
                    # What crf_save remembers: a person's closing stands until this value changes.
                    "trigger_value": values.get(query.field_path) if query.auto else None,
                    "resolved_by_data": False,
                    "reopened": False,
                    "raised_by_id": None if query.auto else user(MONITOR, form.site)[0],
                    "created_at": _stamp(query.steps[0].at),
                    "updated_at": _stamp(query.steps[-1].at),
                    "closed_at": _stamp(query.steps[-1].at) if query.status == QueryStatus.CLOSED else None,
                }
            )
            for step in query.steps:
                role = form.entered_by if step.role == ENTRY else step.role
                rows[QueryMessage].append(
                    {
                        **key,
                        "action": step.action,
                        "author_id": user(role, form.site)[0] if role else None,
                        "text": step.text,
                        "created_at": _stamp(step.at),
                    }
                )
    return rows


@functools.cache
def _insert_sql(model, columns: tuple[str, ...]) -> str:
    """INSERT ... SELECT from one JSON document of rows, joined to the records (and queries) they name.

    Signature and DataQuery rows carry participant_id and form_code in place of record_id; QueryMessage
    rows carry those and field_path and check_code in place of query_id.
    """
    quote = connection.ops.quote_name
    fields = {f.column: f for f in model._meta.concrete_fields}
    # The naming columns that are not the model's own (participant_id, form_code...) are typed as text,
    # the participant as integer: they only meet the columns of the records and queries they join.
    typed = {c: fields[c].db_type(connection) if c in fields else "text" for c in columns}
    if model is FormRecord:
        given, selected, joins = list(columns), [f"r.{quote(c)}" for c in columns], ""
    else:
        typed["participant_id"] = "integer"
        own = [c for c in columns if c in fields]
        given = ["query_id" if model is QueryMessage else "record_id", *own]
        selected = ["q.id" if model is QueryMessage else "fr.id", *(f"r.{quote(c)}" for c in own)]
        joins = (
            f" JOIN {quote(FormRecord._meta.db_table)} fr"
            " ON fr.participant_id = r.participant_id AND fr.form_code = r.form_code"
            " AND fr.visit_code = ''"  # the demo writes the participant-level forms only
        )
        if model is QueryMessage:
            joins += (
                f" JOIN {quote(DataQuery._meta.db_table)} q ON q.record_id = fr.id"
                " AND q.field_path = r.field_path AND q.check_code = r.check_code"
            )
    definition = ", ".join(f"{quote(c)} {kind}" for c, kind in typed.items())
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in given)}) "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM json_to_recordset(%s::json) AS r({definition}){joins}"
    )


def _batches(rows: Sequence[dict]) -> list[str]:
    return [
        json.dumps(rows[start : start + BATCH_SIZE], ensure_ascii=False, separators=(",", ":"))
        for start in range(0, len(rows), BATCH_SIZE)
    ]


def _chunk(task) -> tuple[CrfSeedResult, list[tuple[type, tuple[str, ...], str]]]:
    """Plan a chunk of participants and encode its rows: all the Python work of seeding, in a worker."""
    enrolled, seed, today, users = task
    plan = crf_plan(enrolled, seed=seed, today=today)
    rows = crf_rows(plan, users=users)
    result = CrfSeedResult(
        participants=len({form.participant for form in plan}),
        records=Counter(form.status for form in plan),
        queries=Counter(row["status"] for row in rows[DataQuery]),
        signatures=len(rows[Signature]),
    )
    return result, [
        (model, tuple(model_rows[0]), batch)
        for model, model_rows in rows.items()
        if model_rows
        for batch in _batches(model_rows)
    ]


def crf_write(statements: Iterable[tuple[type, tuple[str, ...], str]]) -> None:
    """Run the inserts of a chunk, records first. Call in a transaction, inside an audit_context.

    Why not bulk_create: compiling every value of every row in Python cost about a third of the seeding time
    at 56,000 participants, and auto_now/auto_now_add would stamp two years of data entry with today's time.
    A batch is one JSON document that PostgreSQL unpacks; the statement still goes through Django's cursor,
    so pghistory attaches the audit context (who, why: seed_demo) to every event row as for any other write.
    """
    with connection.cursor() as cursor:
        for model, columns, batch in statements:
            cursor.execute(_insert_sql(model, columns), [batch])


def _enrolled(participants) -> list[Enrolled]:
    """The plan's view of participants (a queryset), with the forms of their protocol versions."""
    rows = list(
        participants.values(
            "pk",
            "study_id",
            "site__code",
            "site__time_zone",
            "screening__age",
            "screening__sex",
            "screening__fracture_levels",
            "screening__screening_date",
            "screening__protocol_version",
            "consent_date",
            "enrollment_date",
            "status",
            "status_date",
        ).order_by("pk")
    )
    versions = {row["screening__protocol_version"] for row in rows}
    forms = {
        pk: tuple(definition.get("forms", []))
        for pk, definition in ProtocolVersion.objects.filter(pk__in=versions).values_list("pk", "definition")
    }
    return [
        Enrolled(
            key=row["pk"],
            study_id=row["study_id"],
            site=row["site__code"],
            time_zone=row["site__time_zone"],
            age=row["screening__age"],
            sex=row["screening__sex"],
            fracture_levels=tuple(row["screening__fracture_levels"] or ()),
            screening_date=row["screening__screening_date"],
            consent_date=row["consent_date"],
            enrollment_date=row["enrollment_date"],
            status=row["status"],
            status_date=row["status_date"],
            forms=forms[row["screening__protocol_version"]],
        )
        for row in rows
    ]


def _workers(chunks: int) -> int:
    """Planning processes beside this one, which only writes: the plan is pure Python (about 0.6 ms a
    participant, most of it clean_data and evaluate) and runs while PostgreSQL inserts the previous chunk.
    0 for a single chunk: planned in this process."""
    return 0 if chunks < 2 else max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


def crf_seed(
    *, study: Study, seed: int, today: datetime.date | None = None, workers: int | None = None
) -> CrfSeedResult:
    """Fill the CRFs of the study's demo participants (created by seed_demo) that have no form yet; a second
    run adds nothing.

    Atomic and durable so that a failed seed leaves nothing behind; the study row is locked so that two
    seeders cannot plan the same participants. `today` defaults to the earliest site date (every event is
    before it); `workers` to one planning process per core for more than one chunk.
    """
    with transaction.atomic(durable=True), audit_context(reason=DEMO_REASON, command=DEMO_COMMAND):
        study = Study.objects.select_for_update(of=("self",)).get(pk=study.pk)
        pending = Participant.objects.filter(
            # Only participants the audit trail says seed_demo created: run by mistake on a live database,
            # the seeder must never invent forms (and signatures) for real participants.
            Exists(
                apps.get_model("trial", "ParticipantEvent").objects.filter(
                    pgh_obj=OuterRef("pk"), pgh_label="insert", pgh_context__metadata__command=DEMO_COMMAND
                )
            ),
            # NOT EXISTS, an anti-join: NOT IN (subquery) degrades to a scan per row once the subquery's
            # hash outgrows work_mem (a second run over 56,000 participants took minutes).
            ~Exists(FormRecord.objects.filter(participant=OuterRef("pk"))),
            site__study=study,
        )
        enrolled = _enrolled(pending)
        result = CrfSeedResult()
        if not enrolled:
            return result
        sites = list(study.sites.filter(code__in={person.site for person in enrolled}).order_by("code"))
        staff = demo_staff(study, sites)
        users = {key: (user.pk, user.get_full_name() or user.get_username()) for key, user in staff.items()}
        today = today or min(site_today(site) for site in sites)
        tasks = [
            (enrolled[start : start + CHUNK_SIZE], seed, today, users)
            for start in range(0, len(enrolled), CHUNK_SIZE)
        ]
        workers = _workers(len(tasks)) if workers is None else workers
        if not workers:
            for task in tasks:
                written, statements = _chunk(task)
                crf_write(statements)
                result.add(written)
            return result
        # Forked workers only plan (pure functions, no database). gc.freeze: the collector leaves the objects
        # inherited from this process alone, so their pages stay shared instead of being copied and scanned.
        with multiprocessing.get_context("fork").Pool(workers, initializer=gc.freeze) as pool:
            for written, statements in pool.imap(_chunk, tasks):
                crf_write(statements)
                result.add(written)
        return result


def crf_summary(*, study: Study) -> dict:
    """Forms and data queries of a study by status, for the seeding summary (two queries)."""
    records = Counter(
        dict(
            FormRecord.objects.filter(participant__site__study=study)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    queries = Counter(
        dict(
            DataQuery.objects.filter(record__participant__site__study=study)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    return {"records": records, "queries": queries}


def crf_demo_stage(*, study: Study, seed: int) -> DemoAdded:
    """trial.hooks.demo_stages: the CRFs of the demo participants, with a line saying what was added."""
    added = crf_seed(study=study, seed=seed)
    summary = crf_summary(study=study)
    records, queries = summary["records"], summary["queries"]
    by_status = ", ".join(f"{status} {records[status]:,}" for status in FormStatus.values if records[status])
    done = (
        f"added {sum(added.records.values()):,} forms for {added.participants:,} participants"
        if added.participants
        else "nothing to add"
    )
    return DemoAdded(
        name="crf",
        line=(
            f"{study.code} CRFs: {done}; {sum(records.values()):,} forms ({by_status or 'none'}), "
            f"{sum(queries.values()):,} data queries ({queries[QueryStatus.OPEN]:,} open, "
            f"{queries[QueryStatus.ANSWERED]:,} answered)"
        ),
        counts={
            "crf_forms_added": sum(added.records.values()),
            "crf_queries_added": sum(added.queries.values()),
        },
    )
