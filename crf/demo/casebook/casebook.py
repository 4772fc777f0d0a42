"""A whole casebook: every form's data drawn, then entered in protocol order and taken through its life
cycle; crf_plan does so for each participant."""

import datetime
import random
from collections.abc import Iterable, Sequence

from trial.models import ParticipantStatus, Role

from ...engine.definitions import FormDef, form_definitions
from ...engine.validate import CheckContext, clean_data, evaluate
from ..draws import days, weighted
from ..plan import Enrolled, FormPlan
from ..rates import (
    COMPLETION_LAG,
    ENTRY_LAG,
    INVESTIGATOR_ENTRY_SHARE,
    NOT_DONE,
    NOT_RECORDED,
    STUCK_DRAFT_SHARE,
)
from .baseline import BaselineData
from .hospital import HospitalData
from .imaging import ImagingData
from .lifecycle import LifeCycle


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
        plans += Casebook(person, seed=seed, today=today).plan(enabled)
    return plans


class Casebook(BaselineData, ImagingData, HospitalData, LifeCycle):
    """One participant's story (dates, fractures, treatment) and the forms that record it."""

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
        not_done, not_recorded = self._not_collected()
        self._entered_by = Role.INVESTIGATOR if rng.random() < INVESTIGATOR_ENTRY_SHARE else Role.COORDINATOR
        stopped = p.status_date if p.status == ParticipantStatus.WITHDRAWN else None
        # Forms are keyed in protocol order: a form's entry is never before the previous form's.
        entries: dict[str, datetime.datetime] = {}
        completions: dict[str, datetime.datetime | None] = {}
        last: datetime.datetime | None = None
        day = p.enrollment_date
        for form in forms:
            day = max(day, self._event_day(form.code)) + days(weighted(rng, ENTRY_LAG))
            stuck = rng.random() < STUCK_DRAFT_SHARE
            done_day = day + days(weighted(rng, COMPLETION_LAG))
            if day >= today or (stopped is not None and day >= stopped):
                break  # not started, nor any later form
            moment = self._moment(day, after=last)
            if form.code in not_done:
                continue  # the exam was not done: nothing to key (its draws above keep the stream aligned)
            last = entries[form.code] = moment
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
            if not_recorded.get(form.code):
                raw = {key: value for key, value in raw.items() if key not in not_recorded[form.code]}
                completions[form.code] = None  # a required value the site cannot give: it stays a draft
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
        return self._lock(plans, [form for form in forms if form.code not in not_done])

    def _not_collected(self) -> tuple[set[str], dict[str, set[str]]]:
        """The forms whose exam was not done and the values never recorded (rates.NOT_DONE, NOT_RECORDED).

        Drawn from a stream of their own, every rate drawn in the same order whatever the protocol's forms:
        independent of the participant's values and outcome (missing completely at random); a form not done
        still makes its draws of the casebook's stream, so the other forms keep about the same dates.
        """
        rng = random.Random(f"{self.seed}:{self.p.study_id}:not-collected")
        not_done = {code for code, share in NOT_DONE.items() if rng.random() < share}
        not_recorded: dict[str, set[str]] = {}
        for (code, field), share in NOT_RECORDED.items():
            if rng.random() < share:
                not_recorded.setdefault(code, set()).add(field)
        return not_done, not_recorded

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
