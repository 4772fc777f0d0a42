"""Patient links (ePRO): a single-use, expiring, unguessable URL that lets a patient answer one questionnaire.

The URL carries `key.signature`: a random 128-bit key, signed with the project's SECRET_KEY and a salt of its
own. Only the key's SHA-256 is stored, so neither a database reader nor a guesser can build a live link: a
token that was not signed here is refused before any lookup. A link dies when its questionnaire is
submitted (by the patient or by staff), when it expires, when a newer link replaces it, or when staff revoke
it (sent to the wrong phone, say); every refusal changes nothing. No token and no answer is ever logged.

Nothing to enumerate: a token that was altered (its signature fails) and a well-signed key that names no link
get one answer, "unknown", after the same work (the signature checked, then one indexed lookup), so neither
the answer nor its time tells them apart. Only a token signed here (the patient's own link) may learn that
its link is used, expired or revoked. The signature is compared in constant time (Signer.unsign uses
constant_time_compare, i.e. hmac.compare_digest), and the lookup is by the SHA-256 of the key: the index's
byte-by-byte comparison could at most leak a prefix of a stored hash, which gives no way back to a key (a
preimage of SHA-256), never a prefix of the key. Guessing is slowed down per client on top of this
(followup/views/link_limits.py).
"""

import datetime
import hashlib
import logging
import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status

from trial.access import require_site_staff
from trial.audit import audit_context
from trial.errors import Conflict, DomainError, InvalidInput
from trial.i18n import LANGUAGES
from trial.models import ContactOptOut, Participant
from trial.models.site import SITE_STAFF_ROLES
from trial.services import opt_out_by_patient

from ..instruments import InstrumentDef, instrument_def
from ..instruments.texts import instrument_text_loaded
from ..models import PatientLink, QuestionnaireResponse, ResponseSource, ResponseStatus, Visit
from .questionnaires import (
    CLOSED_VISIT_STATES,
    PATIENT_CLOSED,
    questionnaire_get_or_start,
    questionnaire_save,
)

logger = logging.getLogger(__name__)

SALT = "followup.patient-link"
SEPARATOR = "."  # not in the URL-safe base64 alphabet, so the token is one clean path segment
KEY_BYTES = 16  # 128 bits
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")
MAX_TOKEN_LENGTH = 200
DEFAULT_LINK_DAYS = 14
REMINDER_ACCOUNT = "spinetrial-reminders"  # issues the reminders' links; cannot log in
# A link is a bearer credential: even if a site sets a long expiry, a forgotten link does not live for months.
MAX_LINK_DAYS = 60
ISSUING_ROLES = SITE_STAFF_ROLES  # the site's own staff, as for every site-staff write
# The audit trail's reason when staff revoke a link without giving one (data, not a message: not translated).
REVOKED_BY_STAFF = "patient link revoked by staff"
# The same rules as questionnaire_save's for a patient: a link is refused where an answer would be.
CLOSED_PARTICIPANT = PATIENT_CLOSED
CLOSED_VISIT = CLOSED_VISIT_STATES


class LinkRefused(DomainError):
    """A link that cannot be used. `code`: unknown (404: altered, or never issued) or expired, used, revoked,
    superseded (a newer link was issued for the same questionnaire, e.g. by a later reminder) (410).

    Carries the link's language when the link is known, so the refusal speaks the patient's language.
    """

    GONE = frozenset({"expired", "used", "revoked", "superseded"})

    def __init__(self, code: str, *, language: str = ""):
        messages = {
            "unknown": _("This link is not valid."),
            "expired": _("This link has expired."),
            "used": _("This questionnaire has already been submitted."),
            "revoked": _("This link is no longer valid."),
            "superseded": _("A newer link was sent for this questionnaire."),
        }
        super().__init__(messages[code], code=code)
        self.language = language
        self.status_code = status.HTTP_410_GONE if code in self.GONE else status.HTTP_404_NOT_FOUND

    @property
    def refuses_page(self) -> bool:
        return True  # the patient's refused-link page answers it (followup.views.patient.refused_link_page)


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=SEPARATOR)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def link_lifetime(expires_in: datetime.timedelta | None = None) -> datetime.timedelta:
    """How long a new link lives: `expires_in`, else settings.EPRO_LINK_DAYS; at most MAX_LINK_DAYS."""
    if expires_in is None:
        expires_in = datetime.timedelta(days=getattr(settings, "EPRO_LINK_DAYS", DEFAULT_LINK_DAYS))
    if expires_in <= datetime.timedelta(0):
        raise InvalidInput(
            _("A link must live for some time."), field_errors={"expires_in": [_("Must be positive.")]}
        )
    return min(expires_in, datetime.timedelta(days=MAX_LINK_DAYS))


def _language(language: str) -> str:
    codes = LANGUAGES
    if language not in codes:
        raise InvalidInput(
            _("Unknown language."),
            field_errors={"language": [_("Choose one of: %(codes)s.") % {"codes": ", ".join(codes)}]},
        )
    return language


def _visit_open_for(visit: Visit, instrument: str) -> None:
    """Links only for a questionnaire the visit collects, at a visit that still happens, for a participant
    who still takes part."""
    if instrument not in (visit.questionnaires or []):
        raise InvalidInput(
            _("Visit %(visit)s does not collect this questionnaire.") % {"visit": visit.code},
            field_errors={"instrument": [_("Not collected at this visit.")]},
        )
    if visit.state in CLOSED_VISIT:
        raise Conflict(
            _("Visit %(visit)s is %(state)s: no questionnaire is collected.")
            % {"visit": visit.code, "state": visit.get_state_display()},
            code="visit_closed",
        )
    if visit.participant.status in CLOSED_PARTICIPANT:
        raise Conflict(
            _("The participant is %(status)s: no questionnaire is collected.")
            % {"status": visit.participant.get_status_display()},
            code="participant_closed",
        )


def _wording_loaded(instrument: InstrumentDef, language: str) -> None:
    """A patient cannot answer the placeholders shown while an instrument's licensed wording is not loaded
    ("Statement 0 ... Statement 5"): no link until it is, in the link's language. Staff entry from a paper
    form needs no wording and is not refused."""
    if instrument.licensed_wording and not instrument_text_loaded(instrument, language):
        raise Conflict(
            _(
                "The %(instrument)s wording is not loaded in %(language)s, and a patient cannot answer "
                "placeholder statements: no link was created. A data manager loads the site's licensed "
                "wording with `manage.py load_instrument_text FILE` (one file per language). Until then, "
                "staff can enter the answers from a paper form."
            )
            % {"instrument": instrument.code.upper(), "language": dict(settings.LANGUAGES)[language]},
            code="wording_not_loaded",
        )


def patient_link_issue(
    *, actor, visit: Visit, instrument: str, language: str, expires_in: datetime.timedelta | None = None
) -> tuple[PatientLink, str]:
    """A new link for the visit's questionnaire; returns the link and the token of its URL (shown once).

    Creates the draft response (source: patient) if there is none, and revokes the response's older live
    links: only the newest link works. Atomic, with the response row locked, so two coordinators issuing at
    once leave exactly one live link.
    """
    require_site_staff(actor, visit.participant.site, gettext_lazy("send a questionnaire link"))
    return _link_issue(
        actor=actor,
        issuer=actor,
        visit=visit,
        instrument=instrument,
        language=language,
        expires_in=expires_in,
    )


def patient_link_issue_for_reminder(
    *, visit: Visit, instrument: str, language: str, planned_at: datetime.datetime
) -> tuple[PatientLink, str]:
    """A reminder's fresh link: every check of patient_link_issue but the person's role, issued by the
    reminders' own account (no login). It revokes the links issued before the reminder was planned (older
    messages', a coordinator's), not those of the same reminder on another channel: an SMS and an e-mail
    sent together both work."""
    return _link_issue(
        actor=None,
        issuer=reminder_account(),
        visit=visit,
        instrument=instrument,
        language=language,
        revoke_before=planned_at,
    )


def reminder_account():
    """The account that issues the reminders' links: it cannot log in (no usable password, inactive)."""
    user, created = get_user_model().objects.get_or_create(
        username=REMINDER_ACCOUNT, defaults={"is_active": False, "first_name": "SpineTrial reminders"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _link_issue(
    *,
    actor,
    issuer,
    visit: Visit,
    instrument: str,
    language: str,
    expires_in: datetime.timedelta | None = None,
    revoke_before: datetime.datetime | None = None,
) -> tuple[PatientLink, str]:
    participant = visit.participant
    language = _language(language)
    definition = instrument_def(instrument)  # an unknown instrument: 400 before anything else
    _visit_open_for(visit, instrument)
    _wording_loaded(definition, language)
    lifetime = link_lifetime(expires_in)
    # The draft comes first, in its own transaction (questionnaire_get_or_start queues on the participant's
    # row, as every first save does); the link is then made with that response row locked.
    draft, _created = questionnaire_get_or_start(
        actor=actor,
        participant=participant,
        visit=visit,
        instrument=instrument,
        source=ResponseSource.PATIENT,
        language=language,
    )
    key = secrets.token_urlsafe(KEY_BYTES)
    with transaction.atomic(durable=True), audit_context(actor=issuer):
        # The participant's row first, as every write locks it; then judge the participant's status and the
        # visit's state as they are now: a withdrawal (or a missed visit) committed since the checks above
        # must not get a live link.
        Participant.objects.select_for_update().filter(pk=participant.pk).exists()
        _visit_open_for(Visit.objects.select_related("participant").get(pk=visit.pk), instrument)
        response = QuestionnaireResponse.objects.select_for_update().get(pk=draft.pk)
        if response.status == ResponseStatus.FINAL:
            raise Conflict(_("This questionnaire has already been submitted."), code="final")
        now = timezone.now()
        older = _live_links(response, now)
        if revoke_before is not None:
            older = older.filter(created_at__lt=revoke_before)
        older.update(revoked_at=now)
        link = PatientLink.objects.create(
            response=response,
            key_sha256=_digest(key),
            language=language,
            expires_at=now + lifetime,
            created_by=issuer,
        )
    logger.info("patient link %s issued for response %s", link.pk, response.pk)
    return link, _signer().sign(key)


def patient_link_revoke(*, actor, link: PatientLink, reason: str = "") -> PatientLink:
    """Revoke a link at once: it stops opening the questionnaire; the answers saved so far stay as they are.

    The roles that issue links revoke them. Idempotent: a link already revoked, replaced or expired is
    returned unchanged. A used link (its questionnaire submitted) is a 409: there is nothing left to stop.
    Atomic, with the link row locked, so a revocation and a submission (or a new link) never interleave.
    """
    require_site_staff(actor, link.response.participant.site, gettext_lazy("revoke a questionnaire link"))
    reason = (reason or "").strip() or REVOKED_BY_STAFF
    with (
        transaction.atomic(durable=True),
        audit_context(actor=actor, reason=reason, action="patient_link_revoke"),
    ):
        locked = (
            PatientLink.objects.select_for_update(of=("self",)).select_related("response").get(pk=link.pk)
        )
        if locked.revoked_at is not None:
            return locked
        if locked.used_at is not None or locked.response.status == ResponseStatus.FINAL:
            raise Conflict(
                _("This questionnaire has already been submitted: its link can no longer be revoked."),
                code="used",
            )
        now = timezone.now()
        if locked.expires_at <= now:
            return locked  # dead already: nothing to stop, nothing recorded
        locked.revoked_at = now
        locked.save(update_fields=["revoked_at"])
    logger.info("patient link %s revoked for response %s", locked.pk, locked.response_id)
    return locked


def _live_links(response: QuestionnaireResponse, now: datetime.datetime):
    return PatientLink.objects.filter(
        response=response, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )


def _key_of(token: str) -> str | None:
    """The key a token carries when it was signed here; None for anything else (never an exception, so
    that every refused token goes on to the same lookup)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        key = _signer().unsign(token)
    except signing.BadSignature:
        return None
    return key if KEY_PATTERN.match(key) else None


# What an unsigned token is looked up by: the hash of the empty string, which no issued key (22 characters)
# has. The lookup is the one a well-signed unknown key makes, so both take the same time.
_NO_KEY_DIGEST = hashlib.sha256(b"").hexdigest()


def patient_link_resolve(token: str) -> PatientLink:
    """The live link a token names, with its response, visit and participant; else LinkRefused.

    An altered token and an unknown key are both "unknown", after the same one query. A response submitted
    meanwhile (by the patient, or by staff on the patient's behalf) makes the link used; a visit that is
    missed or not applicable, or a participant who withdrew or died, makes it revoked.
    """
    key = _key_of(token)
    links = PatientLink.objects.select_related(
        "response__visit", "response__participant__site__study"
    ).filter(key_sha256=_NO_KEY_DIGEST if key is None else _digest(key))
    link = links.first()
    if link is None or key is None:
        raise LinkRefused("unknown")
    response = link.response
    if link.used_at is not None or response.status == ResponseStatus.FINAL:
        raise LinkRefused("used", language=link.language)
    closed = (response.visit is not None and response.visit.state in CLOSED_VISIT) or (
        response.participant.status in CLOSED_PARTICIPANT
    )
    if closed:
        raise LinkRefused("revoked", language=link.language)
    if link.revoked_at is not None:
        raise LinkRefused(_why_revoked(link), language=link.language)
    if link.expires_at <= timezone.now():
        raise LinkRefused("expired", language=link.language)
    return link


def _still_live(pk: int) -> None:
    """The link row locked and checked again inside the save: a revocation or expiry that landed after the
    token was resolved wins (patient_link_revoke locks the same row)."""
    link = PatientLink.objects.select_for_update().get(pk=pk)
    if link.used_at is not None:
        raise LinkRefused("used", language=link.language)
    if link.revoked_at is not None:
        raise LinkRefused(_why_revoked(link), language=link.language)
    if link.expires_at <= timezone.now():
        raise LinkRefused("expired", language=link.language)


def _why_revoked(link: PatientLink) -> str:
    """ "superseded" when a newer link was issued for the same questionnaire (the patient has a newer message
    to open), else "revoked" (by staff)."""
    newer = PatientLink.objects.filter(response_id=link.response_id, created_at__gt=link.created_at)
    return "superseded" if newer.exists() else "revoked"


def patient_link_open(token: str) -> PatientLink:
    """Resolve a link for display, noting when the patient first opened it."""
    link = patient_link_resolve(token)
    if link.opened_at is None:
        link.opened_at = timezone.now()
        PatientLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(opened_at=link.opened_at)
    return link


def patient_link_save(
    token: str,
    answers,
    submit: bool,
    *,
    language: str | None = None,
    expected_version: int | None = None,
) -> QuestionnaireResponse:
    """The patient saves answers (a draft) or submits them (final); the link is used once submitted.

    `language`: the language the patient answered in (the page's), by default the link's. The refusals
    (dead link, invalid answers, a response already final) happen before anything is written.
    """
    link = patient_link_resolve(token)
    response = link.response
    saved = questionnaire_save(
        actor=None,
        participant=response.participant,
        visit=response.visit,
        instrument=response.instrument,
        answers=answers,
        source=ResponseSource.PATIENT,
        language=_language(language or link.language),
        submit=submit,
        expected_version=expected_version,
        guard=lambda: _still_live(link.pk),
    )
    if submit:
        # questionnaire_save owns its (durable) transaction and refuses a second submission itself; the
        # link's used time is the record of when it did its job.
        PatientLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=saved.submitted_at or timezone.now()
        )
        logger.info("patient link %s used: response %s submitted", link.pk, response.pk)
    return saved


def patient_link_opt_out(token: str, *, channel: str) -> ContactOptOut:
    """The patient stops the reminders on `channel` through their link (trial's opt_out_by_patient: source
    patient, idempotent). Only a live link may: a dead one is refused (LinkRefused) before anything is
    written, and checked again under the participant's row lock, as a save is."""
    link = patient_link_resolve(token)
    opt_out = opt_out_by_patient(
        participant=link.response.participant, channel=channel, guard=lambda: _still_live(link.pk)
    )
    logger.info("patient link %s: opt-out of %s in force", link.pk, opt_out.channel)
    return opt_out
