"""The demo's reference-standard readings: each registered fractured vertebra read blind by two adjudicators,
and by a third where they disagree, against the demo's hidden truth (trial.demo.truth: acute or chronic).

`reference_reading_plan` is pure (no database) and follows the services' rules, which it cannot call (they
cost queries for every case and stamp today's time):
- **Who** (services/assignment.py): a case goes to its two readers when it is registered; each empty slot to
  the eligible reader (an adjudicator holding no role at the case's centre, not already on the case) with the
  fewest active assignments, then the fewest ever, then the lowest user id, in the order the cases were
  registered. A disagreement brings the third reader the same way, when the later verdict is signed.
- **The result** (services/verdicts.py): the first two agreeing make the case final with their answer;
  otherwise the third reader's answer is final.

Rates (demo realism, not protocol facts): each independent reader calls an acute vertebra acute with
probability SENSITIVITY and a chronic one chronic with SPECIFICITY, their errors independent; the third reader
is right with THIRD_RIGHT. At the demo's prevalence (about 0.38 of the registered vertebrae acute: every
acute case's first level and some of the others, trial/demo/truth.py) two such readers agree on about 87 % of
the vertebrae, Cohen's kappa about 0.73 (observed 0.874, by chance 0.527); about 13 % of the cases go to the
third reader, and about 1.4 % of the final answers are wrong.
Each verdict is signed on a working day after its case was registered and before today (site time); a case
registered today (none in the demo, whose registrations end yesterday) waits for its readers.
"""

import datetime
import random
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from trial.demo.truth import vertebra_is_acute
from trial.levels import LEVELS

from ..models import CaseStatus, ReaderSlot
from .course.draws import midnight, weighted
from .reading import Reader

INDEPENDENT = (ReaderSlot.FIRST, ReaderSlot.SECOND)
SENSITIVITY = 0.92  # an independent reader calls an acute vertebra acute
SPECIFICITY = 0.94  # and a chronic one chronic
THIRD_RIGHT = 0.95  # the tie-breaker reads the disputed vertebra right
READ_DAYS = 6  # mean days from registration to a verdict (exponential)
THIRD_READ_DAYS = 4  # the tie-breaker's, from the dispute
REVIEW_HOUR = 9  # a case registered on a day goes to its readers at the start of it (site time)
SIGN_HOURS = (10, 18)  # readers sign in working hours, after that
CONFIDENCE = {  # by whether the reader read the vertebra right
    True: {"low": 5, "moderate": 30, "high": 65},
    False: {"low": 30, "moderate": 50, "high": 20},
}


@dataclass(frozen=True)
class Vertebra:
    """A registered fractured vertebra to read: its case (None while not yet opened), its participant and
    registration, and the readers already on it ({slot: user id})."""

    case: int | None
    participant: int
    study_id: str
    group: str
    levels: tuple[str, ...]  # the case's registered levels, as registered (the truth reads their order)
    level: str
    site: str
    time_zone: str
    registered: datetime.date
    assigned: Mapping[str, int] = field(default_factory=dict)


@dataclass
class VertebraReading:
    """What a vertebra's case comes to: its status and final answer, the assignments it gains ({slot: (user
    id, when)}), and the verdicts (by slot: the Verdict's columns but its ids)."""

    vertebra: Vertebra
    opened_at: datetime.datetime
    status: str = CaseStatus.OPEN
    final_fracture: bool | None = None
    finalized_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    assigned: dict[str, tuple[int, datetime.datetime]] = field(default_factory=dict)
    verdicts: dict[str, dict] = field(default_factory=dict)


def _sign(
    rng: random.Random, zone: str, after: datetime.datetime, mean_days: float, last: datetime.date
) -> datetime.datetime | None:
    """A signing time in working hours some days after `after` (site time), on `last` at the latest; None
    when `last` is before `after`'s day."""
    first = after.astimezone(zoneinfo.ZoneInfo(zone)).date()
    delay = datetime.timedelta(days=int(rng.expovariate(1 / mean_days)))
    if last < first:
        return None
    day = min(first + delay, last)
    moment = midnight(zone, day) + datetime.timedelta(hours=rng.uniform(*SIGN_HOURS))
    return max(moment, after + datetime.timedelta(minutes=30))


class _Case:
    """A vertebra being read: its own random stream (the same whatever the others), its truth, and by slot
    the signing time (None: not by today) and the answer."""

    def __init__(self, vertebra: Vertebra, *, seed: int, last: datetime.date):
        self.vertebra, self.last = vertebra, last
        self.rng = random.Random(f"{seed}:{vertebra.study_id}:{vertebra.level}:reference")
        self.truth = vertebra_is_acute(
            seed=seed,
            study_id=vertebra.study_id,
            group=vertebra.group,
            levels=list(vertebra.levels),
            level=vertebra.level,
        )
        self.opened = midnight(vertebra.time_zone, vertebra.registered) + datetime.timedelta(
            hours=REVIEW_HOUR
        )
        right = SENSITIVITY if self.truth else SPECIFICITY
        zone = vertebra.time_zone
        self.signed = {slot: _sign(self.rng, zone, self.opened, READ_DAYS, last) for slot in INDEPENDENT}
        self.answers = {slot: self._read(right) for slot in INDEPENDENT}
        self.disputed = self.answers[ReaderSlot.FIRST] != self.answers[ReaderSlot.SECOND]

    def _read(self, right: float) -> bool:
        return self.truth if self.rng.random() < right else not self.truth

    @property
    def disputed_at(self) -> datetime.datetime | None:
        signed = [self.signed[slot] for slot in INDEPENDENT]
        return None if None in signed else max(signed)

    def third(self) -> None:
        """The tie-breaker's signing time and answer, drawn once the dispute is known."""
        when = self.disputed_at
        after = _sign(self.rng, self.vertebra.time_zone, when, THIRD_READ_DAYS, self.last) if when else None
        self.signed[ReaderSlot.THIRD] = after
        self.answers[ReaderSlot.THIRD] = self._read(THIRD_RIGHT)

    def verdict(self, slot: str, reader: Reader) -> dict:
        answer = self.answers[slot]
        return {
            # As services/verdicts.py stores an answer alone: no levels, no grade, no date.
            "fracture": answer,
            "levels": [],
            "acute_signal": None,
            "genant_grade": None,
            "event_date": None,
            "reader": reader.user,
            "round": 1,
            "confidence": weighted(self.rng, CONFIDENCE[answer == self.truth]),
            "comment": "",
            "printed_name": reader.printed_name,
            "signed_at": self.signed[slot],
        }


class _Loads:
    """The readers' active and all assignments, as the round-robin counts them, growing as it assigns."""

    def __init__(self, loads: Mapping[int, tuple[int, int]]):
        self.counts = {user: list(counts) for user, counts in loads.items()}

    def pick(self, options: Sequence[Reader]) -> Reader:
        reader = min(options, key=lambda r: (*self.counts.get(r.user, (0, 0)), r.user))
        counts = self.counts.setdefault(reader.user, [0, 0])
        counts[0], counts[1] = counts[0] + 1, counts[1] + 1
        return reader


def _fill(
    reading: VertebraReading, slots, at: datetime.datetime, eligible, loads: _Loads, taken: set
) -> None:
    for slot in slots:
        if slot in reading.vertebra.assigned:
            continue
        options = [reader for reader in eligible if reader.user not in taken]
        if not options:
            return  # the slot stays empty, for the data manager to fill
        reader = loads.pick(options)
        reading.assigned[slot] = (reader.user, at)
        taken.add(reader.user)


def _order(vertebra: Vertebra) -> tuple:
    """Cases registered at one moment are opened participant by participant, level by level."""
    return (vertebra.participant, LEVELS.index(vertebra.level))


def _slots(reading: VertebraReading) -> dict[str, int]:
    """{slot: user id} of the readers on the case: those already on it, and those the plan gives it."""
    return {**reading.vertebra.assigned, **{slot: user for slot, (user, _at) in reading.assigned.items()}}


def _final(reading: VertebraReading, answer: bool, at: datetime.datetime) -> None:
    reading.status, reading.final_fracture = CaseStatus.FINAL, answer
    reading.finalized_at = reading.updated_at = at


def reference_reading_plan(
    vertebrae: Sequence[Vertebra],
    *,
    readers: Sequence[Reader],
    loads: Mapping[int, tuple[int, int]],
    seed: int,
    today: datetime.date,
) -> list[VertebraReading]:
    """How each vertebra's case is read by `today` (in the order of `vertebrae`). `readers`: the study's
    active adjudicators; `loads`: their active and all assignments so far, {user id: (active, ever)}."""
    last = today - datetime.timedelta(days=1)
    cases = [_Case(v, seed=seed, last=last) for v in vertebrae]
    readings = [
        VertebraReading(vertebra=v, opened_at=c.opened) for v, c in zip(vertebrae, cases, strict=True)
    ]
    by_user = {reader.user: reader for reader in readers}
    counted = _Loads(loads)
    options = [[r for r in readers if v.site not in r.sites] for v in vertebrae]
    taken = [set(v.assigned.values()) for v in vertebrae]
    # The readers are given in the order the services give them, by time: the first two when a case is
    # registered, the third when the later of the two verdicts disagrees.
    events = [(case.opened, 0, i) for i, case in enumerate(cases)]
    events += [(case.disputed_at, 1, i) for i, case in enumerate(cases) if case.disputed and case.disputed_at]
    for moment, kind, i in sorted(
        events, key=lambda event: (event[0], event[1], _order(vertebrae[event[2]]))
    ):
        if kind == 0:
            _fill(readings[i], INDEPENDENT, moment, options[i], counted, taken[i])
        elif all(slot in _slots(readings[i]) for slot in INDEPENDENT):
            _fill(readings[i], (ReaderSlot.THIRD,), moment, options[i], counted, taken[i])
    for reading, case in zip(readings, cases, strict=True):
        slots = _slots(reading)
        if case.disputed_at is None or any(slots.get(slot) not in by_user for slot in INDEPENDENT):
            continue  # a slot empty, or a verdict not in by today: the case waits
        for slot in INDEPENDENT:
            reading.verdicts[slot] = case.verdict(slot, by_user[slots[slot]])
        if not case.disputed:
            _final(reading, case.answers[ReaderSlot.FIRST], case.disputed_at)
            continue
        reading.status, reading.updated_at = CaseStatus.DISPUTED, case.disputed_at
        case.third()
        third = slots.get(ReaderSlot.THIRD)
        if third not in by_user or case.signed[ReaderSlot.THIRD] is None:
            continue  # no third reader left, or not in by today: the dispute waits
        reading.verdicts[ReaderSlot.THIRD] = case.verdict(ReaderSlot.THIRD, by_user[third])
        _final(reading, case.answers[ReaderSlot.THIRD], case.signed[ReaderSlot.THIRD])
    return readings
