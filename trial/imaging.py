"""Imaging exams: the keyed hash of DICOM UIDs, and the checks of a screening's exams against its protocol.

The checks (`imaging_checks`) are what the screening page and the API show beside the verdict; the
eligibility rule itself (trial/eligibility.py, `imaging`) judges from the same exams.
"""

import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.utils.translation import gettext as _

from .eligibility import ExamFact, Facts, closest_interval, imaging_dates

KEY_CONTEXT = b"spinetrial imaging uid v1"


def uid_key() -> bytes:
    """The HMAC key of UIDs: IMAGING_UID_KEY, else one derived from SECRET_KEY (read when called).

    Keyed, not a bare SHA-256: a UID's root is public (the scanner maker's) and the rest often a date and
    a counter, so a plain hash could be found by hashing guesses; without the key it cannot.
    """
    key = getattr(settings, "IMAGING_UID_KEY", "") or ""
    if key:
        return key.encode()
    return hmac.new(settings.SECRET_KEY.encode(), KEY_CONTEXT, hashlib.sha256).digest()


def uid_hash(uid: str) -> str:
    """HMAC-SHA256 of a DICOM UID (hex): equal UIDs give equal hashes, the UID cannot be recovered."""
    return hmac.new(uid_key(), uid.strip("\x00 ").encode(), hashlib.sha256).hexdigest()


def imaging_spec(criteria: Iterable) -> Mapping | None:
    """The protocol's imaging rule (the first computed criterion that has one), or None."""
    for criterion in criteria:
        if isinstance(criterion.rule, Mapping) and "imaging" in criterion.rule:
            return criterion.rule["imaging"]
    return None


def _when(exam: ExamFact) -> dict:
    return {"modality": exam.modality, "date": exam.study_date.isoformat()}


def imaging_checks(spec: Mapping | None, exams: Iterable[ExamFact]) -> list[tuple[str, str]]:
    """What is wrong with a screening's exams for its protocol, as (code, message), in a fixed order:
    wrong_body_part, duplicate_study, modality_missing, interval_too_long. Without an imaging rule in the
    protocol only duplicates are checked."""
    exams = tuple(exams)
    checks: list[tuple[str, str]] = []
    parts = list((spec or {}).get("body_parts") or ())
    for exam in exams:
        if not parts:
            break
        if not exam.body_parts:
            message = _("The %(modality)s exam of %(date)s does not say which body part it shows.")
            checks.append(("wrong_body_part", message % _when(exam)))
        elif not set(exam.body_parts) & set(parts):
            message = _("The %(modality)s exam of %(date)s shows %(shown)s, not a body part of the protocol "
                        "(%(allowed)s).")  # fmt: skip
            shown = {"shown": ", ".join(exam.body_parts), "allowed": ", ".join(parts)}
            checks.append(("wrong_body_part", message % (_when(exam) | shown)))
    # Two exams of one modality on one day: most often one study exported twice (anonymising tools give the
    # copy new UIDs, so the hashes differ).
    same_day = Counter((exam.modality, exam.study_date) for exam in exams)
    for (modality, day), count in sorted(same_day.items(), key=lambda item: (item[0][1], item[0][0])):
        if count > 1:
            message = _("%(count)s %(modality)s exams are dated %(date)s: the same study registered twice?")
            checks.append(
                ("duplicate_study", message % {"count": count, "modality": modality, "date": day.isoformat()})
            )
    if spec is None:
        return checks
    dates = imaging_dates(spec, Facts(exams=exams))
    for modality, days in dates.items():
        if not days:
            message = _("No %(modality)s exam is registered.") % {"modality": modality}
            checks.append(("modality_missing", message))
    interval = closest_interval(dates.values())
    limit = spec.get("max_interval_days")
    if interval is not None and limit is not None and interval > limit and len(dates) > 1:
        message = _("The %(modalities)s exams are %(days)s days apart, more than the protocol's %(limit)s.")
        checks.append(
            (
                "interval_too_long",
                message % {"modalities": "-".join(dates), "days": interval, "limit": limit},
            )
        )
    return checks
