"""What a demo plan is made of: screenings, with their imaging exams and the enrollment of those enrolled, and
drafts being drawn."""

import datetime
from dataclasses import dataclass, field

from ..eligibility import Facts
from ..models import ParticipantStatus, Role


@dataclass(frozen=True)
class EnrollmentRow:
    """An enrollment, or the registration of a case where the protocol waives consent (no consent date)."""

    sequence: int
    study_id: str
    consent_date: datetime.date | None
    enrollment_date: datetime.date
    full_name: str
    phone: str
    hospital_record_number: str
    status: str = ParticipantStatus.ENROLLED
    status_date: datetime.date | None = None
    status_reason: str = ""
    group: str = ""  # the protocol's group (design.groups), when it declares some


@dataclass(frozen=True)
class ExamRow:
    """An imaging exam as its DICOM header gives it (trial.ImagingExam); the UIDs are made by the writer."""

    modality: str
    study_date: datetime.date
    body_parts: tuple[str, ...]
    slice_thickness: str  # mm, as the header's decimal string
    manufacturer: str
    series_count: int


@dataclass(frozen=True)
class ScreeningRow:
    site: str
    screening_date: datetime.date
    age: int
    sex: str
    fracture_levels: tuple[str, ...]
    answers: dict[str, bool | None]
    outcome: str
    failed: tuple[str, ...]
    missing: tuple[str, ...]
    screener: str  # Role.COORDINATOR or Role.INVESTIGATOR of the site
    notes: str = ""
    not_enrolled_reason: str = ""
    enrollment: EnrollmentRow | None = None
    exams: tuple[ExamRow, ...] = ()


@dataclass(frozen=True)
class DemoPlan:
    """What the seeder will insert, in screening (date) order; the rates are the ones drawn from the seed."""

    screenings: tuple[ScreeningRow, ...]
    failure_rate: float
    incomplete_rate: float
    decline_rate: float
    female_share: float

    @property
    def participants(self) -> list[EnrollmentRow]:
        return [row.enrollment for row in self.screenings if row.enrollment]


@dataclass
class Draft:
    """A screening being drawn; frozen into a ScreeningRow once its study ID is known."""

    site: str
    day: datetime.date
    intent: str
    declined: bool = False
    facts: Facts = field(default_factory=Facts)
    answers: dict[str, bool | None] = field(default_factory=dict)
    screener: str = Role.COORDINATOR.value
    consent: datetime.date | None = None
    enrolled: datetime.date | None = None
    identity: tuple[str, str] = ("", "")
