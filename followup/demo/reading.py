"""The reading of a seeding run's cases: who reads each, what they find and when, and where that leaves it.

`reading_plan` is pure (no database) and follows the services' rules, which it cannot call (they cost queries
for every case, and stamp today's time):
- **Who** (services/assignment.py): a case goes to its first and second readers when an MRI reporting it is
  complete; each slot to the eligible reader (an adjudicator holding no role at the participant's site, not
  already on the case) with the fewest active assignments, then the fewest ever, then the lowest user id. A
  disagreement brings the third reader the same way, when the later of the two verdicts is signed.
- **The result** (services/verdicts.py): the first two agreeing on the main question make the case final with
  their answer, the union of their levels and the earlier event date; otherwise it is disputed until the
  third reader's verdict, which is final as given.

Which read pairs disagree is drawn as a quota of each grade (rates.py), from a stream of the run; the pairs
that agree find the truth (Reported.fracture: the demo's true model drew a new fracture there, or the site
reported one where there is none, which both readers then call "no"), and so does the third reader, so that
the final verdict is the truth and the endpoint the true model's event. The rest (delays, grades, dates,
confidence, comments) from a stream of each case. Every
verdict is signed after its case went to review and before today (site time); the ones that would fall later
are not in yet, and the newest cases are held back where needed so that every state of the workflow shows.
"""

import datetime
import random
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..models import CaseStatus, ReaderSlot
from .course.draws import midnight, weighted
from .plan import Reported
from .rates import (
    ACUTE_AGREES,
    AWAITING_MIN,
    COMMENT_SHARE,
    COMMENTS,
    CONFIDENCE,
    DISPUTE_SHARE,
    GRADE_AGREES,
    LATER_EXAM_SHARE,
    READ_DAYS,
    READ_HOURS,
    THIRD_READ_DAYS,
)

INDEPENDENT = (ReaderSlot.FIRST, ReaderSlot.SECOND)


@dataclass(frozen=True)
class Reader:
    """An adjudicator of the study: their user id, printed name and the sites where they hold a role."""

    user: int
    printed_name: str
    sites: frozenset[str] = frozenset()


@dataclass
class Reading:
    """What a case comes to: its status and adjudicated result, its assignments and verdicts (by slot)."""

    case: Reported
    status: str = CaseStatus.OPEN
    final_fracture: bool | None = None
    final_levels: list[str] = field(default_factory=list)
    final_event_date: datetime.date | None = None
    finalized_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None  # the case's last change, when review changed it
    assigned: dict[str, tuple[int, datetime.datetime]] = field(default_factory=dict)  # slot -> reader, when
    verdicts: dict[str, dict] = field(default_factory=dict)  # slot -> the Verdict's columns but ids


def _local_date(moment: datetime.datetime, zone: str) -> datetime.date:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).date()


def _share(share: float, count: int) -> int:
    return int(share * count + 0.5)  # half up: a quota of the group, the same whatever the group's order


class _Case:
    """A case being read: its own stream, its eligible readers, and by slot the signing time, whether the
    verdict is in by today, and its answer."""

    def __init__(
        self, index: int, case: Reported, *, seed: int, eligible: list[Reader], today: datetime.date
    ):
        self.index, self.case, self.eligible = index, case, eligible  # index: in the review order
        self.rng = random.Random(f"{seed}:{case.study_id}:{case.level}:reading")
        self.cut = midnight(case.time_zone, today)
        self.start = case.review_from
        self.signed = {slot: self.after(self.start, READ_DAYS) for slot in INDEPENDENT}
        self.read = {slot: len(eligible) >= 2 and self.signed[slot] < self.cut for slot in INDEPENDENT}
        self.answers: dict[str, bool] = {}

    def after(self, moment: datetime.datetime, mean_days: float) -> datetime.datetime:
        """A signing time on a later day than `moment` (site time), in working hours."""
        days = 1 + min(int(self.rng.expovariate(1 / mean_days)), int(6 * mean_days))
        day = _local_date(moment, self.case.time_zone) + datetime.timedelta(days=days)
        return midnight(self.case.time_zone, day) + datetime.timedelta(hours=self.rng.uniform(*READ_HOURS))

    @property
    def pair(self) -> bool:
        return all(self.read.values())

    @property
    def disputed_at(self) -> datetime.datetime:
        """When the later of the two verdicts came in (the moment a disagreement brings the third reader)."""
        return max(self.signed[slot] for slot in INDEPENDENT)

    def verdict(self, slot: str, reader: Reader) -> dict:
        """The slot's verdict: the Verdict's columns but its ids (`reader` names the user)."""
        rng, case, answer = self.rng, self.case, self.answers[slot]
        signed = self.signed[slot]
        if answer:
            grade = case.grade
            if rng.random() >= GRADE_AGREES:
                grade = max(1, min(3, grade + rng.choice((-1, 1))))
            # The MRIs in the packet when the reader signed: dated by the first, or by a later one when the
            # first looked equivocal to them.
            seen = sorted({exam.exam_date for exam in case.exams if exam.entered_at < signed})
            later = [day for day in seen[1:2] if case.date_until is None or day <= case.date_until]
            # (never past the horizon: the demo's true event is dated within it, see Reported.date_until)
            event_date = later[0] if later and rng.random() < LATER_EXAM_SHARE else seen[0]
            acute = case.acute if rng.random() < ACUTE_AGREES else not case.acute
            found = {
                "fracture": True,
                "levels": [case.level],
                "acute_signal": acute,
                "genant_grade": grade,
                "event_date": event_date,
            }
        else:  # as services/verdicts.py stores a "no": no level, grade 0, no date
            found = {
                "fracture": False,
                "levels": [],
                "acute_signal": None,
                "genant_grade": 0,
                "event_date": None,
            }
        return {
            **found,
            "reader": reader.user,
            "round": 1,
            "confidence": weighted(rng, CONFIDENCE[(answer, case.grade)]),
            "comment": rng.choice(COMMENTS[answer]) if rng.random() < COMMENT_SHARE else "",
            "printed_name": reader.printed_name,
            "signed_at": signed,
        }


def _hold_back(live: list[_Case]) -> None:
    """The newest cases await their readers where too few do by chance: some with no verdict, some one."""
    target = min(AWAITING_MIN, len(live) // 10)
    waiting = sum(not any(c.read.values()) for c in live)
    for c in reversed(live):
        if waiting >= target:
            break
        if any(c.read.values()):
            c.read = dict.fromkeys(INDEPENDENT, False)
            waiting += 1
    waiting = sum(sum(c.read.values()) == 1 for c in live)
    for c in reversed(live):
        if waiting >= target:
            break
        if c.pair:
            c.read[max(INDEPENDENT, key=c.signed.get)] = False
            waiting += 1


def _answer(live: list[_Case], run: random.Random) -> list[_Case]:
    """Each verdict's answer on the main question; the disputed cases. The read pairs disagree by the quota
    of their grade (the reader in error drawn at random), else both find the truth; a lone verdict errs at
    half its grade's dispute share (one reader's share of a pair's disagreements); the third reader, who
    settles a dispute, finds the truth: the final verdict is the demo's truth (case.fracture)."""
    pairs = [c for c in live if c.pair]
    for grade in sorted({c.case.grade for c in pairs}):
        group = [c for c in pairs if c.case.grade == grade]
        disputable = [c for c in group if len(c.eligible) >= 3]  # a third reader is there to settle it
        disputed = {
            c.index
            for c in run.sample(disputable, min(len(disputable), _share(DISPUTE_SHARE[grade], len(group))))
        }
        for c in group:
            truth = c.case.fracture
            if c.index in disputed:
                first = c.rng.random() < 0.5
                c.answers = {ReaderSlot.FIRST: first, ReaderSlot.SECOND: not first}
            else:
                c.answers = dict.fromkeys(INDEPENDENT, truth)
    for c in live:
        if sum(c.read.values()) == 1:
            slot = next(slot for slot, read in c.read.items() if read)
            errs = c.rng.random() < DISPUTE_SHARE[c.case.grade] / 2
            c.answers[slot] = c.case.fracture != errs
    disputes = [c for c in pairs if c.answers[ReaderSlot.FIRST] != c.answers[ReaderSlot.SECOND]]
    for c in disputes:
        c.signed[ReaderSlot.THIRD] = c.after(c.disputed_at, THIRD_READ_DAYS)
        c.read[ReaderSlot.THIRD] = c.signed[ReaderSlot.THIRD] < c.cut
    # Some disputes await the third reader: the newest, where too few do by chance.
    target = min(AWAITING_MIN, len(disputes) // 2)
    waiting = sum(not c.read[ReaderSlot.THIRD] for c in disputes)
    for c in sorted(disputes, key=lambda c: c.disputed_at, reverse=True):
        if waiting >= target:
            break
        if c.read[ReaderSlot.THIRD]:
            c.read[ReaderSlot.THIRD] = False
            waiting += 1
    for c in disputes:
        if c.read[ReaderSlot.THIRD]:
            c.answers[ReaderSlot.THIRD] = c.case.fracture
    return disputes


def _assign(live: list[_Case], disputes: list[_Case], loads: Mapping[int, tuple[int, int]]) -> list[dict]:
    """Each case's readers, {slot: (Reader, assigned at)}, given in the order the services give them: the
    first two when the case goes to review, the third at the dispute, each to the least loaded eligible."""
    load = {}
    for c in live:
        for reader in c.eligible:
            load.setdefault(reader.user, list(loads.get(reader.user, (0, 0))))
    events = [(c.start, 0, c.index, INDEPENDENT) for c in live]
    events += [(c.disputed_at, 1, c.index, (ReaderSlot.THIRD,)) for c in disputes]
    assigned: list[dict] = [{} for _ in live]
    for moment, _kind, i, slots in sorted(events, key=lambda event: event[:3]):
        for slot in slots:
            taken = {reader.user for reader, _at in assigned[i].values()}
            options = [reader for reader in live[i].eligible if reader.user not in taken]
            if not options:
                break  # the slot stays empty, for the data manager to fill
            reader = min(options, key=lambda r: (*load[r.user], r.user))
            assigned[i][slot] = (reader, moment)
            load[reader.user][0] += 1
            load[reader.user][1] += 1
    return assigned


def _settled(reading: Reading, verdicts: list[dict]) -> None:
    """Final on these verdicts: their answer, the union of their levels and the earliest event date."""
    fracture = verdicts[0]["fracture"]
    reading.status, reading.final_fracture = CaseStatus.FINAL, fracture
    reading.final_levels = sorted({level for v in verdicts for level in v["levels"]}) if fracture else []
    reading.final_event_date = min(v["event_date"] for v in verdicts) if fracture else None
    reading.finalized_at = reading.updated_at = max(v["signed_at"] for v in verdicts)


def reading_plan(
    reported: Sequence[Reported],
    *,
    readers: Sequence[Reader],
    loads: Mapping[int, tuple[int, int]],
    seed: int,
    today: datetime.date,
) -> list[Reading]:
    """How each case is read by `today` (in the order of `reported`). `readers`: the study's active
    adjudicators; `loads`: their active and all assignments so far, {user id: (active, ever)}."""
    readings = [Reading(case=case) for case in reported]
    # Review order: when each case went to its readers (a case only drafts report is not read).
    order = sorted(
        (i for i, case in enumerate(reported) if case.review_from is not None),
        key=lambda i: (reported[i].review_from, reported[i].participant, reported[i].level),
    )
    live = [
        _Case(
            position,
            reported[i],
            seed=seed,
            eligible=[reader for reader in readers if reported[i].site not in reader.sites],
            today=today,
        )
        for position, i in enumerate(order)
    ]
    _hold_back(live)
    disputes = _answer(live, random.Random(f"{seed}:reading"))
    for i, c, assigned in zip(order, live, _assign(live, disputes, loads), strict=True):
        reading = readings[i]
        reading.assigned = {slot: (reader.user, at) for slot, (reader, at) in assigned.items()}
        for slot, (reader, _at) in assigned.items():
            if c.read.get(slot):
                reading.verdicts[slot] = c.verdict(slot, reader)
        if ReaderSlot.THIRD in reading.verdicts:
            _settled(reading, [reading.verdicts[ReaderSlot.THIRD]])
        elif all(slot in reading.verdicts for slot in INDEPENDENT):
            first, second = (reading.verdicts[slot] for slot in INDEPENDENT)
            if first["fracture"] == second["fracture"]:
                _settled(reading, [first, second])
            else:
                reading.status, reading.updated_at = CaseStatus.DISPUTED, c.disputed_at
    return readings
