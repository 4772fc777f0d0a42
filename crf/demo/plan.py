"""What a plan is made of: the participants it is drawn for and the forms, queries and steps it holds.

Plain frozen rows, no database: `Enrolled.key` and `FormPlan.participant` are opaque to the plan (the writer's
participant id).
"""

import datetime
from dataclasses import dataclass, field

from trial.models import ParticipantStatus, Role

from ..models import QueryAction, QueryStatus

# Who acts on a query step or a record: ENTRY is whoever keys the casebook (its coordinator or investigator).
ENTRY, MONITOR, INVESTIGATOR, DATA_MANAGER = "entry", Role.MONITOR, Role.INVESTIGATOR, Role.DATA_MANAGER


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
    consent_date: datetime.date | None  # None where the protocol waives consent (a retrospective case)
    enrollment_date: datetime.date
    status: str = ParticipantStatus.ENROLLED
    status_date: datetime.date | None = None
    forms: tuple[str, ...] = ()  # the codes its protocol version enables
    # A retrospective case: the date of its first imaging exam in the records (its data is from then).
    records_date: datetime.date | None = None


@dataclass(frozen=True)
class QueryStep:
    action: str  # QueryAction
    role: str  # "" for an edit check, else ENTRY, MONITOR
    at: datetime.datetime
    text: str  # a person's words; for an edit check, its message in English
    code: str = ""  # an edit check's message as data (crf.engine.messages), shown in the reader's language
    params: dict = field(default_factory=dict)


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
