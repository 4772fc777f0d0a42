"""Screening: record a patient against the protocol's criteria, keep every record, correct with a reason."""

import datetime
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..access import require_site_staff
from ..audit import audit_context, reason_required
from ..clock import site_today
from ..eligibility import CriterionSpec, ExamFact, Facts, Verdict, judge
from ..errors import Conflict, InvalidInput
from ..levels import LEVELS, is_level, level_index
from ..models import NotEnrolledReason, Outcome, ProtocolVersion, Screening, Sex, Site, Study
from ..selectors import imaging_exam_facts, imaging_exams

AGE_RANGE = (0, 120)  # plausibility of the value itself; eligibility age limits are protocol rules
UPDATABLE_FIELDS = (
    "screening_date",
    "age",
    "sex",
    "fracture_levels",
    "answers",
    "notes",
    "not_enrolled_reason",
)


def study_opened(study_id: int) -> datetime.date | None:
    """The first protocol version's effective date: no clinical date of the study can precede it."""
    return (
        ProtocolVersion.objects.filter(study_id=study_id, effective_date__isnull=False)
        .order_by("effective_date")
        .values_list("effective_date", flat=True)
        .first()
    )


def _criteria_specs(version: ProtocolVersion) -> list[CriterionSpec]:
    return [CriterionSpec(code=c.code, kind=c.kind, rule=c.rule) for c in version.criteria.all()]


def clean_screening_data(
    *, version: ProtocolVersion, site: Site, data: Mapping[str, Any], partial: bool = False
) -> dict[str, Any]:
    """Check and normalise screening data for a protocol version; raises InvalidInput with field errors."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "screening_date" in data or not partial:
        day = data.get("screening_date")
        if not isinstance(day, datetime.date):
            fail("screening_date", _("Give the screening date (YYYY-MM-DD)."))
        elif day > site_today(site):
            fail("screening_date", _("The screening date cannot be in the future."))
        elif (opened := study_opened(version.study_id)) and day < opened:
            fail(
                "screening_date",
                _("The screening date is before the study opened (%(date)s).") % {"date": opened},
            )
        else:
            clean["screening_date"] = day
    if "age" in data or not partial:
        age = data.get("age")
        if not isinstance(age, int) or isinstance(age, bool):
            fail("age", _("Give the age in whole years."))
        elif not AGE_RANGE[0] <= age <= AGE_RANGE[1]:
            fail(
                "age",
                _("Age must be between %(low)s and %(high)s years.")
                % {"low": AGE_RANGE[0], "high": AGE_RANGE[1]},
            )
        else:
            clean["age"] = age
    if "sex" in data or not partial:
        if data.get("sex") not in Sex.values:
            fail("sex", _("Sex must be one of: %(choices)s.") % {"choices": ", ".join(Sex.values)})
        else:
            clean["sex"] = data["sex"]
    if "fracture_levels" in data or not partial:
        levels = data.get("fracture_levels") or []
        if not isinstance(levels, list | tuple):
            fail("fracture_levels", _('Give the fractured levels as a list, e.g. ["T12", "L1"].'))
        else:
            normalised = [str(level).strip().upper() for level in levels]
            unknown = [level for level in normalised if not is_level(level)]
            if unknown:
                fail(
                    "fracture_levels",
                    _("Unknown vertebral level(s): %(levels)s. Use %(first)s to %(last)s.")
                    % {"levels": ", ".join(unknown), "first": LEVELS[0], "last": LEVELS[-1]},
                )
            elif len(set(normalised)) != len(normalised):
                fail("fracture_levels", _("A level is listed twice."))
            else:
                clean["fracture_levels"] = sorted(normalised, key=level_index)
    if "answers" in data or not partial:
        answers = data.get("answers") or {}
        if not isinstance(answers, Mapping):
            fail("answers", _("Answers are a mapping of criterion code to true, false or null."))
        else:
            criteria = {c.code: c for c in version.criteria.all()}
            for code, value in answers.items():
                if code not in criteria:
                    fail("answers", _("Unknown criterion code: %(code)s.") % {"code": code})
                elif criteria[code].computed:
                    fail(
                        "answers",
                        _("Criterion %(code)s is decided from the data; do not answer it.") % {"code": code},
                    )
                elif value is not None and not isinstance(value, bool):
                    fail("answers", _("The answer to %(code)s must be true, false or null.") % {"code": code})
            clean["answers"] = {code: answers.get(code) for code, c in criteria.items() if not c.computed}
    if "notes" in data:
        clean["notes"] = str(data.get("notes") or "")
    if "not_enrolled_reason" in data:
        if data["not_enrolled_reason"] not in ("", *NotEnrolledReason.values):
            fail(
                "not_enrolled_reason",
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(NotEnrolledReason.values)},
            )
        else:
            clean["not_enrolled_reason"] = data["not_enrolled_reason"]
    if errors:
        raise InvalidInput(_("The screening has invalid data."), field_errors=errors)
    return clean


def _verdict(
    version: ProtocolVersion, values: Mapping[str, Any], exams: tuple[ExamFact, ...] = ()
) -> Verdict:
    facts = Facts(
        age=values.get("age"),
        sex=values.get("sex"),
        fracture_levels=tuple(values.get("fracture_levels") or ()) or None,
        exams=exams,
    )
    return judge(_criteria_specs(version), facts=facts, answers=values.get("answers") or {})


def screening_judge(screening: Screening) -> Verdict:
    """The verdict of a screening as recorded now: its data, answers and registered imaging exams, under its
    own protocol version."""
    exams = imaging_exam_facts(imaging_exams(screening=screening))
    values = {name: getattr(screening, name) for name in UPDATABLE_FIELDS}
    return _verdict(screening.protocol_version, values, exams)


def _study_site(study: Study, site: Site) -> None:
    if site.study_id != study.pk or not site.active:
        raise InvalidInput(_("Unknown site for this study."), field_errors={"site": [_("Unknown site.")]})


def screening_evaluate(*, study: Study, site: Site, data: Mapping[str, Any]) -> Verdict:
    """The verdict a screening would get now, without saving anything (the form's live verdict)."""
    _study_site(study, site)
    clean = clean_screening_data(version=study.current_version, site=site, data=data, partial=True)
    return _verdict(study.current_version, clean)


def screening_create(*, actor, study: Study, site: Site, data: Mapping[str, Any]) -> Screening:
    """Record a screening under the study's current protocol version, eligible or not."""
    _study_site(study, site)
    require_site_staff(actor, site, gettext_lazy("record screenings"))
    version = study.current_version
    clean = clean_screening_data(version=version, site=site, data=data)
    verdict = _verdict(version, clean)
    with transaction.atomic(durable=True), audit_context(actor=actor):
        return Screening.objects.create(
            study=study,
            protocol_version=version,
            site=site,
            screened_by=actor,
            outcome=verdict.outcome,
            failed_criteria=verdict.failed,
            missing_criteria=verdict.missing,
            **clean,
        )


def screening_update(*, actor, screening: Screening, data: Mapping[str, Any], reason: str) -> Screening:
    """Correct a screening before enrollment and re-judge it under its own protocol version.

    Atomic with a row lock so that a correction and an enrollment of the same screening cannot interleave.
    """
    reason = reason_required(reason)
    require_site_staff(actor, screening.site, gettext_lazy("correct screenings"))
    if not data:
        raise InvalidInput(_("Nothing to change: name the fields to correct."))
    unknown = sorted(set(data) - set(UPDATABLE_FIELDS))
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed."),
            field_errors={f: [_("This field cannot be changed.")] for f in unknown},
        )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason.strip()):
        screening = (
            Screening.objects.select_for_update(of=("self",))
            .select_related("site", "protocol_version", "study")
            .get(pk=screening.pk)
        )
        if hasattr(screening, "participant"):
            raise Conflict(
                _("The screening has been enrolled as %(study_id)s and can no longer be changed.")
                % {"study_id": screening.participant.study_id},
                code="already_enrolled",
            )
        if isinstance(data.get("answers"), Mapping):  # a correction names only the answers it changes
            data = {**data, "answers": {**screening.answers, **data["answers"]}}
        clean = clean_screening_data(
            version=screening.protocol_version, site=screening.site, data=data, partial=True
        )
        changed = {name: value for name, value in clean.items() if getattr(screening, name) != value}
        if not changed:  # nothing differs: no save, so no empty audit event
            return screening
        for name, value in changed.items():
            setattr(screening, name, value)
        verdict = screening_judge(screening)
        if screening.not_enrolled_reason and verdict.outcome != Outcome.ELIGIBLE:
            raise InvalidInput(
                _("Only an eligible screening has a reason for not enrolling."),
                field_errors={"not_enrolled_reason": [_("The screening is not eligible.")]},
            )
        screening.outcome = verdict.outcome
        screening.failed_criteria, screening.missing_criteria = verdict.failed, verdict.missing
        screening.save()
        return screening
