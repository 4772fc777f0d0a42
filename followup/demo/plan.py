"""What the follow-up plan is made of: the participant it is drawn for and the rows drawn for them."""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Followed:
    """What the plan needs of a participant."""

    key: int
    study_id: str
    site: str
    time_zone: str
    age: int
    sex: str
    enrollment_date: datetime.date
    status: str
    status_date: datetime.date | None
    visits: Mapping  # the protocol version's `visits:` section
    procedure_date: datetime.date | None
    treated: tuple[str, ...]
    predictors: Mapping  # the true re-fracture model's predictors (predictors.py), None where not stored
    horizon_days: int | None = None  # the protocol's endpoint horizon: the true model's event is within it


@dataclass(frozen=True)
class Exam:
    """A follow-up MRI reporting a case's level: when it was taken, entered and completed (None: a draft)."""

    exam_date: datetime.date
    entered_at: datetime.datetime
    completed_at: datetime.datetime | None


@dataclass(frozen=True)
class Reported:
    """What the reading of one case needs (reading.py): the site's findings and the MRIs that report it."""

    participant: int
    study_id: str
    site: str
    time_zone: str
    level: str
    grade: int  # the site's Genant grade on the MRI that opened the case
    acute: bool  # the site's acute signal on that MRI
    exams: tuple[Exam, ...]  # every MRI reporting the level, in the order they were entered
    # The truth the readers' final verdict finds (the demo's true model drew a new fracture at this level, or
    # the site reported one where there is none), and the last day a reader may date it by (the endpoint's
    # horizon: the true model's event is dated within it).
    fracture: bool = True
    date_until: datetime.date | None = None

    @property
    def review_from(self) -> datetime.datetime | None:
        """When the case went to its readers: the first complete MRI's completion (None while only drafts
        report it: services/adjudication.py)."""
        return min((exam.completed_at for exam in self.exams if exam.completed_at), default=None)


@dataclass
class Plan:
    visits: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)  # name their visit by "visit_code"
    mris: list[dict] = field(default_factory=list)  # name their visit by "visit_code"
    cases: list[dict] = field(default_factory=list)  # one per level; name their first MRI by "visit_code"
    evidence: list[dict] = field(default_factory=list)  # one per MRI and level: "visit_code" and "level"
    reported: list[Reported] = field(default_factory=list)  # one per case, in the order of `cases`
