"""Reads for the questionnaire pages and the patient-link API: the questionnaire as shown, in one language.

The definition is the registry's structure (sections, scale) dressed in the site's licensed wording when it is
loaded, else in neutral placeholders (instruments.texts). It is the same for the patient's page, the
coordinator's entry page and GET /api/v1/patient/{token}/.
"""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone

from crf.selectors import crf_participants
from trial.i18n import localized

from ..instruments import ODI, instrument_def
from ..instruments.texts import instrument_text
from ..models import PatientLink, QuestionnaireResponse, Visit


def questionnaire_definition(instrument: str, version: str, language: str) -> dict:
    """{instrument, version, language, title, instructions, licensed, demonstration, items | scale}.

    ODI: items[i] = {index, number, code, name, options: [{value 0..5, text}]}. VAS: scale = {minimum,
    maximum, unit, low, high}. Texts come from instrument_text: the loaded wording or placeholders. One query.
    """
    definition = instrument_def(instrument)
    text = instrument_text(instrument, version, language)
    out = {
        "instrument": definition.code,
        "version": version,
        "language": language,
        "title": text.get("title") or localized(definition.name, language),
        "instructions": text.get("instructions", ""),
        "licensed": bool(text.get("licensed")),
        "demonstration": bool(text.get("demonstration")),
    }
    if definition is ODI:
        sections = text.get("sections") or []
        out["items"] = [
            {
                "index": i,
                "number": i + 1,
                "code": section.code,
                # The licensed section title when loaded, else the registry's section name.
                "name": _section_text(sections, i).get("title") or localized(section.name, language),
                "options": [
                    {"value": value, "text": statement}
                    for value, statement in enumerate(_section_text(sections, i).get("statements") or [])
                ],
            }
            for i, section in enumerate(definition.sections)
        ]
    else:
        out["scale"] = {
            "minimum": definition.minimum,
            "maximum": definition.maximum,
            "unit": definition.unit,
            "low": (text.get("anchors") or {}).get("low", ""),
            "high": (text.get("anchors") or {}).get("high", ""),
        }
    return out


def _section_text(sections: list, index: int) -> dict:
    return sections[index] if index < len(sections) and isinstance(sections[index], dict) else {}


def questionnaire_visit(*, user, study_id: str, visit_code: str) -> Visit:
    """The visit of a participant whose CRFs the user may read (never a blinded adjudicator), else 404."""
    participant = get_object_or_404(
        crf_participants(user=user).select_related("site__study"), study_id=study_id
    )
    visit = get_object_or_404(Visit, participant=participant, code=visit_code)
    visit.participant = participant  # already loaded, with its site
    return visit


def visit_response(visit: Visit, instrument: str) -> QuestionnaireResponse | None:
    return (
        QuestionnaireResponse.objects.select_related("entered_by")
        .filter(participant_id=visit.participant_id, visit=visit, instrument=instrument)
        .first()
    )


def response_links(response: QuestionnaireResponse | None) -> list[PatientLink]:
    """The response's links, newest first (staff pages; their tokens are never stored)."""
    if response is None:
        return []
    return list(
        PatientLink.objects.filter(response=response).select_related("created_by").order_by("-created_at")
    )


def visit_link(*, visit: Visit, instrument: str, link_id: int) -> PatientLink:
    """One link of the visit's questionnaire, else 404 (the visit comes from questionnaire_visit)."""
    link = get_object_or_404(
        PatientLink.objects.select_related("response"),
        pk=link_id,
        response__visit=visit,
        response__instrument=instrument,
    )
    link.response.visit = visit  # already loaded, with its participant and site
    link.response.participant = visit.participant
    return link


def link_state(
    link: PatientLink, now: datetime.datetime | None = None, *, final: bool = False, closed: bool = False
) -> str:
    """live, used, revoked or expired (what a coordinator sees of a link), as patient_link_resolve decides:
    `final` (the response is submitted) makes it used, `closed` (visit or participant) revoked."""
    now = now or timezone.now()
    if link.used_at or final:
        return "used"
    if link.revoked_at or closed:
        return "revoked"
    if link.expires_at <= now:
        return "expired"
    return "live"
