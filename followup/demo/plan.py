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
    risk: Mapping  # factor name -> 0/1 (or years for age)


@dataclass
class Plan:
    visits: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)  # name their visit by "visit_code"
    mris: list[dict] = field(default_factory=list)  # name their visit by "visit_code"
    cases: list[dict] = field(default_factory=list)  # name their MRI by "visit_code"
