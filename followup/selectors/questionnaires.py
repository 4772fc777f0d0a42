"""Reads of questionnaire responses: a participant's list, and change from baseline with MCID flags."""

from django.db.models import F, QuerySet

from crf.selectors import crf_participants

from ..instruments import INSTRUMENTS, RELATIVE_MCID_PERCENT, change_from_baseline
from ..models import QuestionnaireResponse, ResponseStatus, Visit, VisitKind


def questionnaire_participants(*, user) -> QuerySet:
    """Participants whose questionnaires the user may read: as for CRFs, their sites, never as an
    adjudicator (outcomes are judged blind to the predictors, and pain and disability are predictors)."""
    return crf_participants(user=user)


def participant_questionnaires(participant) -> QuerySet:
    """The participant's responses in visit order, with their visit and who entered them (one query)."""
    return (
        QuestionnaireResponse.objects.filter(participant=participant)
        .select_related("visit", "entered_by")
        .order_by(F("visit__target_date").asc(nulls_last=True), "visit__sequence", "instrument", "id")
    )


def _point(response: QuestionnaireResponse) -> dict:
    return {
        "visit": response.visit.code,
        "visit_label": response.visit.label,
        "score": response.score,
        "band": response.band or None,
        "completed_on": response.completed_on,
    }


def questionnaire_changes(participant, *, responses=None) -> list[dict]:
    """Per instrument: the baseline, each later submitted response with its change from baseline, and MCID.

    The baseline is the submitted response at the participant's first scheduled visit that lists the
    instrument (the protocol's first schedule item that collects it; no visit code is assumed). Improvement
    is baseline - value (both instruments: lower is better). Without a baseline score, or without a score at
    a visit, the change and the flags are None: unknown, not "no improvement". Two queries (visits,
    responses), or one when `responses` (participant_questionnaires) is given.
    """
    visits = list(
        Visit.objects.filter(participant=participant, kind=VisitKind.SCHEDULED)
        .order_by("sequence")
        .values_list("pk", "questionnaires")
    )
    if responses is None:
        responses = participant_questionnaires(participant)
    finals = [r for r in responses if r.status == ResponseStatus.FINAL and r.visit_id is not None]
    changes = []
    for code, definition in INSTRUMENTS.items():
        listed = [pk for pk, questionnaires in visits if code in (questionnaires or [])]
        mine = sorted(
            (r for r in finals if r.instrument == code),
            key=lambda r: (r.visit.target_date, r.visit.sequence, r.pk),
        )
        if not listed and not mine:
            continue
        first_visit = listed[0] if listed else None
        baseline = next((r for r in mine if r.visit_id == first_visit), None)
        after = mine
        if baseline is not None:
            after = [r for r in mine if r.visit.sequence > baseline.visit.sequence]
        followups = []
        for response in after:
            point = _point(response)
            known = baseline is not None and baseline.score is not None and response.score is not None
            change = (
                change_from_baseline(code, baseline=baseline.score, value=response.score) if known else None
            )
            point.update(
                change=change.change if change else None,
                improvement=change.improvement if change else None,
                relative_improvement=change.relative_improvement if change else None,
                mcid=change.mcid if change else None,
                mcid_relative=change.mcid_relative if change else None,
            )
            followups.append(point)
        changes.append(
            {
                "instrument": code,
                "version": definition.version,
                "unit": definition.unit,
                "mcid": definition.mcid,
                "mcid_relative_percent": RELATIVE_MCID_PERCENT,
                "baseline": _point(baseline) if baseline else None,
                "followups": followups,
            }
        )
    return changes
