"""Questionnaire responses (ODI, VAS): save a draft, submit, correct; and loading a site's licensed wording.

A response is a draft until submitted, then final, and a final response stays final. Its score, band and count
of answered items are computed from the answers on every save, never typed. An ODI submitted with more
sections missing than settings.ODI_MAX_MISSING is kept as submitted with no score: what the patient answered
is data too, and the count of answered sections says why there is no score. Once final, a patient (answering
through a link: actor None) can change nothing; staff correct it only with a reason, which the audit trail
keeps beside the old and new values.
"""

import datetime
import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trial.access import require_site_staff
from trial.audit import audit_context
from trial.clock import site_today
from trial.errors import Conflict, InvalidInput, PreconditionRequired, ReasonRequired
from trial.i18n import LANGUAGES
from trial.models import Participant, ParticipantStatus

from ..instruments import (
    InstrumentDef,
    answers_errors,
    blank_answers,
    instrument_def,
    score_answers,
    stored_answers,
)
from ..instruments.texts import text_file_clean, text_file_parse
from ..models import InstrumentText, QuestionnaireResponse, ResponseSource, ResponseStatus, Visit, VisitState

CLOSED_VISIT_STATES = (VisitState.MISSED, VisitState.NOT_APPLICABLE)
# A patient answers only while taking part; staff may still enter a paper form of a participant lost to
# follow-up who sends it back.
PATIENT_CLOSED = (ParticipantStatus.WITHDRAWN, ParticipantStatus.DIED)
ENTRY_ACTION = gettext_lazy("enter questionnaires")


def questionnaire_instrument(*, participant: Participant, visit: Visit, instrument: str) -> InstrumentDef:
    """The instrument, if `visit` is the participant's and lists it; else 400 (answers to the wrong
    questionnaire)."""
    definition = instrument_def(instrument)
    if visit.participant_id != participant.pk:
        raise InvalidInput(
            _("Unknown visit."), field_errors={"visit": [_("Not a visit of this participant.")]}
        )
    if instrument not in (visit.questionnaires or []):
        raise InvalidInput(
            _("These are answers to the wrong questionnaire: visit %(visit)s does not collect %(code)s.")
            % {"visit": visit.code, "code": instrument},
            field_errors={
                "instrument": [
                    _("Visit %(visit)s collects: %(codes)s.")
                    % {"visit": visit.code, "codes": ", ".join(visit.questionnaires or []) or "-"}
                ]
            },
        )
    return definition


def _check_actor(actor, participant: Participant, source: str) -> None:
    """Staff enter data at their own site (as for CRFs); a patient (no actor) answers only as the patient."""
    if actor is None:
        if source != ResponseSource.PATIENT:
            raise InvalidInput(
                _("A patient's own answers have the source patient."),
                field_errors={"source": [_("Must be patient.")]},
            )
        return
    require_site_staff(actor, participant.site, ENTRY_ACTION)


def _check_inputs(*, source: str, language: str, completed_on, participant: Participant, today) -> None:
    errors = {}
    if source not in ResponseSource.values:
        errors["source"] = [_("One of: %(values)s.") % {"values": ", ".join(ResponseSource.values)}]
    if language not in LANGUAGES:
        errors["language"] = [_("One of: %(values)s.") % {"values": ", ".join(LANGUAGES)}]
    if completed_on is not None:
        if not isinstance(completed_on, datetime.date) or isinstance(completed_on, datetime.datetime):
            errors["completed_on"] = [_("A date.")]
        elif completed_on > today:
            errors["completed_on"] = [_("Cannot be after today at the site.")]
        elif completed_on < participant.consent_date:
            errors["completed_on"] = [_("Cannot be before the consent date.")]
    if errors:
        raise InvalidInput(_("Some values cannot be saved."), field_errors=errors)


def _require_version(response: QuestionnaireResponse | None, expected: int | None) -> None:
    """Optimistic concurrency, as for CRFs: a write names the version it read; a stale one changes nothing."""
    current = response.version if response else 0
    if expected is None:
        if response is not None:
            raise PreconditionRequired(_("Send If-Match with the version you read (the ETag)."))
        return
    if expected != current:
        raise Conflict(
            _(
                "The questionnaire changed since you read it (version %(current)s, you sent %(expected)s). "
                "Reload it."
            )
            % {"current": current, "expected": expected},
            code="stale_version",
        )


def _check_open(
    *, actor, status: str, visit: Visit, response: QuestionnaireResponse | None, instrument: InstrumentDef
) -> None:
    """What the participant's status, the visit's state and the response's state allow (409 otherwise).

    Data already collected stays correctable: a withdrawal stops new responses only, and a submitted
    response at a visit later marked missed or not applicable can still be corrected.
    """
    final = response is not None and response.status == ResponseStatus.FINAL
    if actor is None and final:
        raise Conflict(_("This questionnaire has already been submitted."), code="final")
    if actor is None and status in PATIENT_CLOSED:
        raise Conflict(_("The participant no longer takes part."), code="participant_closed")
    if response is None and status == ParticipantStatus.WITHDRAWN:
        raise Conflict(_("The participant has withdrawn: no new questionnaire."), code="withdrawn")
    if not final and visit.state in CLOSED_VISIT_STATES:
        raise Conflict(
            _("Visit %(visit)s is %(state)s: no questionnaire is collected.")
            % {"visit": visit.code, "state": visit.get_state_display()},
            code="visit_closed",
        )
    if response is not None and response.instrument_version != instrument.version:
        raise Conflict(
            _("This response answers version %(old)s; this installation scores version %(new)s.")
            % {"old": response.instrument_version, "new": instrument.version},
            code="instrument_version",
        )


def _lock(participant: Participant, visit: Visit, instrument: str):
    """The participant's row first (as crf_save does: two first saves, with no response row yet to lock,
    queue there), then the visit's current state and the response row."""
    status = Participant.objects.select_for_update().values_list("status", flat=True).get(pk=participant.pk)
    visit = Visit.objects.get(pk=visit.pk)
    response = (
        QuestionnaireResponse.objects.select_for_update()
        .filter(participant=participant, visit=visit, instrument=instrument)
        .first()
    )
    return status, visit, response


def questionnaire_save(
    *,
    actor,
    participant: Participant,
    visit: Visit,
    instrument: str,
    answers,
    source: str,
    language: str,
    submit: bool = False,
    expected_version: int | None,
    reason: str = "",
    completed_on: datetime.date | None = None,
    guard=None,
) -> QuestionnaireResponse:
    """Save answers to one questionnaire of a visit: a draft, or submitted (final) when `submit`.

    `actor` is the staff member entering them, or None when the patient answers through a link (source
    patient). Partial answers are allowed in a draft; submitting needs at least one answer. `completed_on`
    (the date the answers were given) defaults, on submission, to today at the site. Changing a final
    response needs a reason (staff only). Atomic, with the participant and response rows locked: the
    version check and the write happen as one, so two people saving the same questionnaire cannot both win.
    """
    definition = questionnaire_instrument(participant=participant, visit=visit, instrument=instrument)
    _check_actor(actor, participant, source)
    today = site_today(participant.site)
    _check_inputs(
        source=source, language=language, completed_on=completed_on, participant=participant, today=today
    )
    errors = answers_errors(instrument, answers)
    if errors:
        raise InvalidInput(_("Some answers cannot be saved."), field_errors=errors)
    result = score_answers(instrument, answers)
    if submit and result.answered == 0:
        raise InvalidInput(
            _("Nothing is answered: a blank questionnaire cannot be submitted."),
            field_errors={"answers": [_("Answer at least one item.")]},
        )
    stored = stored_answers(instrument, answers)
    reason = (reason or "").strip()
    try:
        return _save(
            actor=actor,
            participant=participant,
            visit=visit,
            definition=definition,
            stored=stored,
            result=result,
            source=source,
            language=language,
            submit=submit,
            expected_version=expected_version,
            reason=reason,
            completed_on=completed_on,
            today=today,
            guard=guard,
        )
    except IntegrityError as exc:
        # A first response created meanwhile by a path that does not queue on the participant's row (a
        # patient link being issued): the unique constraint refused the twin; the client reloads.
        raise Conflict(
            _("The questionnaire changed since you read it. Reload it."), code="stale_version"
        ) from exc


def _save(
    *,
    actor,
    participant,
    visit,
    definition,
    stored,
    result,
    source,
    language,
    submit,
    expected_version,
    reason,
    completed_on,
    today,
    guard,
) -> QuestionnaireResponse:
    instrument = definition.code
    # Without an actor the patient wrote it: the audit trail says so, rather than look like a system change.
    author = "patient" if actor is None else None
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason, author=author):
        status, visit, response = _lock(participant, visit, instrument)
        if guard is not None:
            guard()  # the caller's own last check, under the same locks (a patient link still live)
        _check_open(actor=actor, status=status, visit=visit, response=response, instrument=definition)
        _require_version(response, expected_version)
        final = response is not None and response.status == ResponseStatus.FINAL
        if actor is not None and not final and source == ResponseSource.PATIENT:
            raise InvalidInput(
                _("Staff enter answers from an interview or a paper form; a patient answers through a link."),
                field_errors={"source": [_("Choose interview or paper.")]},
            )
        new_status = ResponseStatus.FINAL if (final or submit) else ResponseStatus.DRAFT
        kept_date = response.completed_on if response else None
        new_date = completed_on or kept_date or (today if new_status == ResponseStatus.FINAL else None)
        changes = {
            "answers": stored,
            # Attributable (ALCOA): a correction of submitted answers changes the answers, never where they
            # came from or the language they were given in.
            "source": response.source if final else source,
            "language": response.language if final else language,
            "status": new_status,
            "completed_on": new_date,
        }
        if response is not None and all(getattr(response, key) == value for key, value in changes.items()):
            return response  # nothing changed: no new version, no audit event, no reason needed
        if final and not reason:
            raise ReasonRequired(
                _("This questionnaire was submitted: a reason for change is required (X-Change-Reason)."),
                field_errors={"reason": [_("Give a reason for the change.")]},
            )
        if response is None:
            response = QuestionnaireResponse(
                participant=participant,
                visit=visit,
                instrument=instrument,
                instrument_version=definition.version,
                version=0,
            )
        for key, value in changes.items():
            setattr(response, key, value)
        if not final:
            # Who entered the answers: the person who submitted them, or None for the patient. A later
            # correction does not change it; the audit trail names the corrector and the reason.
            response.entered_by = actor
        if new_status == ResponseStatus.FINAL and response.submitted_at is None:
            response.submitted_at = timezone.now()
        response.score, response.band, response.answered = result.score, result.band or "", result.answered
        response.version += 1
        response.save()
        return response


def questionnaire_get_or_start(
    *,
    actor,
    participant: Participant,
    visit: Visit,
    instrument: str,
    source: str = ResponseSource.PATIENT,
    language: str = "zh-hans",
) -> tuple[QuestionnaireResponse, bool]:
    """The visit's response to `instrument`, or a new blank draft; returns (response, created).

    For a patient link or an entry page that needs a row (and its version) before any answer. Nothing is
    entered yet, so `entered_by` stays empty. Atomic, with the participant's row locked, so two starts
    make one response.
    """
    definition = questionnaire_instrument(participant=participant, visit=visit, instrument=instrument)
    if actor is not None:
        require_site_staff(actor, participant.site, ENTRY_ACTION)
    _check_inputs(source=source, language=language, completed_on=None, participant=participant, today=None)
    with transaction.atomic(durable=True), audit_context(actor=actor):
        status, visit, response = _lock(participant, visit, instrument)
        if response is not None:
            return response, False
        _check_open(actor=actor, status=status, visit=visit, response=None, instrument=definition)
        response = QuestionnaireResponse.objects.create(
            participant=participant,
            visit=visit,
            instrument=instrument,
            instrument_version=definition.version,
            source=source,
            language=language,
            answers=blank_answers(instrument),
            status=ResponseStatus.DRAFT,
            version=1,
        )
        return response, True


def instrument_text_load(*, raw: bytes, name: str, demonstration: bool = False) -> tuple[InstrumentText, str]:
    """Load a site's licensed wording from its file's bytes: ("created" | "updated" | "unchanged").

    Checked strictly before anything is written (InvalidInput naming every problem); the row keeps the
    file's SHA-256. Atomic, with the language's row locked, so a failed load leaves the previous wording in
    place, whole. `demonstration`: seed_demo's shipped file, which must say `demonstration: true` (a
    ValueError otherwise) and never replaces a site's own wording ("kept: the site's wording").
    """
    definition, language, content = text_file_clean(text_file_parse(raw, name=name))
    if demonstration and content.get("demonstration") is not True:
        raise ValueError(f"{name} is not marked `demonstration: true`")
    digest = hashlib.sha256(raw).hexdigest()
    command = "seed_demo" if demonstration else "load_instrument_text"
    with transaction.atomic(durable=True), audit_context(command=command):
        text = (
            InstrumentText.objects.select_for_update()
            .filter(instrument=definition.code, instrument_version=definition.version, language=language)
            .first()
        )
        if demonstration and text is not None and text.content.get("demonstration") is not True:
            return text, "kept: the site's wording"
        if text is not None and text.content == content and text.source_sha256 == digest:
            return text, "unchanged"
        state = "updated" if text else "created"
        if text is None:
            text = InstrumentText(
                instrument=definition.code, instrument_version=definition.version, language=language
            )
        text.content, text.source_sha256 = content, digest
        text.save()
        return text, state
