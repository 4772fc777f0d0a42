"""The life cycle of a casebook's forms: completion, verification, signature and locking, and the data
queries raised, answered and closed on the way, with realistic delays."""

import datetime
from collections.abc import Sequence

from trial.i18n import DEFAULT_LANGUAGE

from ...engine.definitions import FormDef
from ...engine.messages import message_text
from ...models import FormStatus, QueryAction, QueryStatus
from ..draws import days, weighted
from ..plan import ENTRY, MONITOR, FormPlan, QueryPlan, QueryStep
from ..rates import (
    ANSWER_LAG,
    ANSWERS,
    CLOSE_LAG,
    CLOSED_BY_MONITOR,
    DEFAULT_ANSWER,
    LOCK_LAG,
    MANUAL_ANSWER,
    MANUAL_QUERIES,
    MANUAL_QUERY_SHARE,
    SAVES,
    SDV_LAG,
    SIGNATURE_LAG,
    SLOW_ANSWER_DAYS,
    SLOW_ANSWER_SHARE,
    SLOW_CLOSE_DAYS,
    SLOW_CLOSE_SHARE,
)
from .story import Story


class LifeCycle(Story):
    """What happens to a casebook's forms once entered; `_entered_by` is set by Casebook.plan."""

    def _life(self, form, data, entered, completed, findings) -> FormPlan:
        rng, today = self.rng, self.today
        queries = [self._auto_query(w, entered) for w in findings.warnings]
        status, verified = FormStatus.DRAFT, None
        if completed is not None:
            status = FormStatus.COMPLETE
            sdv_day = completed.date() + days(weighted(rng, SDV_LAG))
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
            sign_day = verified.date() + days(weighted(rng, SIGNATURE_LAG))
            if sign_day < today:
                status, signed = FormStatus.SIGNED, self._moment(sign_day, after=verified)
        saves = weighted(rng, SAVES)  # each save a version; then one per step of the life cycle
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
        answer_day = raised.date() + days(weighted(rng, ANSWER_LAG))
        close_day = answer_day + days(weighted(rng, CLOSE_LAG))
        draw = rng.random()
        if draw < SLOW_ANSWER_SHARE:
            answer_day += days(rng.randint(*SLOW_ANSWER_DAYS))
            close_day = answer_day + days(weighted(rng, CLOSE_LAG))
        elif draw < SLOW_ANSWER_SHARE + SLOW_CLOSE_SHARE:
            close_day += days(rng.randint(*SLOW_CLOSE_DAYS))
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
        code, params = warning.message_code, warning.message_params
        text = message_text(code, params, fallback=warning.message, language=DEFAULT_LANGUAGE)
        steps = [QueryStep(QueryAction.RAISE, "", raised, text, code, params), *self._steps(raised, answer)]
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
        if not plans or len(plans) < len(forms) or any(plan.signed_at is None for plan in plans):
            return plans
        lock_day = max(plan.signed_at for plan in plans).date() + days(weighted(self.rng, LOCK_LAG))
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
