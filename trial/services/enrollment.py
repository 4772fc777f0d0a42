"""Consent and enrollment under a site-prefixed, gap-free study ID; withdrawal and loss to follow-up."""

import datetime
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from .. import hooks
from ..access import require_site_staff
from ..audit import audit_context, reason_required
from ..clock import site_today
from ..errors import Conflict, InvalidInput, ReasonRequired
from ..i18n import LANGUAGES
from ..models import Outcome, Participant, ParticipantIdentity, ParticipantStatus, Screening, SiteSequence
from ..privacy import IDENTITY_FIELDS
from .screening import study_opened

# The language of the participant's messages: contact data, not identifying, so not among IDENTITY_FIELDS.
CONTACT_LANGUAGE = "contact_language"
DEFAULT_CONTACT_LANGUAGE = "zh-hans"


def _check_dates(*, site, consent_date, enrollment_date, consent_waived: bool = False) -> None:
    """A prospective study dates the consent on or before enrollment; one that waives consent (retrospective
    registration) has no consent date, and one given is refused rather than silently dropped."""
    errors: dict[str, list[str]] = {}
    today = site_today(site)
    opened = study_opened(site.study_id)
    dates = [("enrollment_date", enrollment_date)]
    if consent_waived:
        if consent_date is not None:
            errors["consent_date"] = [_("Consent is waived by the protocol: give no consent date.")]
    else:
        dates.insert(0, ("consent_date", consent_date))
    for name, day in dates:
        if not isinstance(day, datetime.date):
            errors[name] = [_("Give the date (YYYY-MM-DD).")]
        elif day > today:
            errors[name] = [_("The date cannot be in the future.")]
        elif opened and day < opened:
            errors[name] = [_("The date is before the study opened (%(date)s).") % {"date": opened}]
    if not errors and not consent_waived and consent_date > enrollment_date:
        errors["consent_date"] = [_("Consent must be given on or before the enrollment date.")]
    if errors:
        raise InvalidInput(_("The enrollment dates are invalid."), field_errors=errors)


def _check_group(version, group: str) -> str:
    """The case's group: one of the protocol's groups when it declares some, else none."""
    codes = [g["code"] for g in version.groups]
    if not codes and group:
        raise InvalidInput(
            _("This study has no groups."),
            field_errors={"group": [_("This study has no groups: leave the group out.")]},
        )
    if codes and group not in codes:
        raise InvalidInput(
            _("Choose the group."),
            field_errors={"group": [_("Choose one of: %(codes)s.") % {"codes": ", ".join(codes)}]},
        )
    return group


@sensitive_variables("identity", "clean")
def _check_identity(identity: Mapping | None) -> dict[str, str]:
    """Identifying data is required (follow-up needs a name to call); checked against the columns' sizes."""
    if not identity:
        raise InvalidInput(
            _("The identity needs a name."),
            field_errors={"identity": [_("Give the participant's full name.")]},
        )
    if not isinstance(identity, Mapping):
        raise InvalidInput(_("Identity is a mapping of fields."), field_errors={"identity": [_("Invalid.")]})
    unknown = sorted(set(identity) - {*IDENTITY_FIELDS, CONTACT_LANGUAGE})
    if unknown:
        raise InvalidInput(
            _("Unknown identity fields."),
            field_errors={"identity": [_("Unknown field: %(f)s.") % {"f": f} for f in unknown]},
        )
    clean = {key: str(identity.get(key) or "").strip() for key in IDENTITY_FIELDS}
    if not clean["full_name"]:
        raise InvalidInput(
            _("The identity needs a name."),
            field_errors={"identity": [_("Give the participant's full name.")]},
        )
    too_long = [
        key
        for key, value in clean.items()
        if len(value) > ParticipantIdentity._meta.get_field(key).max_length
    ]
    if too_long:
        raise InvalidInput(
            _("Some identity fields are too long."),
            field_errors={key: [_("This value is too long.")] for key in too_long},
        )
    if clean["email"]:
        try:
            validate_email(clean["email"])
        except ValidationError:
            raise InvalidInput(
                _("The e-mail address is not valid."),
                field_errors={"email": [_("Enter a valid e-mail address.")]},
            ) from None
    language = identity.get(CONTACT_LANGUAGE) or DEFAULT_CONTACT_LANGUAGE
    if language not in LANGUAGES:
        choices = ", ".join(LANGUAGES)
        raise InvalidInput(
            _("Unknown language."),
            field_errors={CONTACT_LANGUAGE: [_("Choose one of: %(codes)s.") % {"codes": choices}]},
        )
    return {**clean, CONTACT_LANGUAGE: language}


@sensitive_variables("identity", "identity_data")
def participant_enroll(
    *,
    actor,
    screening: Screening,
    consent_date=None,
    enrollment_date,
    identity: Mapping,
    group: str = "",
    beyond_target: bool = False,
) -> Participant:
    """Enroll an eligible screening and hand out the site's next study ID.

    Under a protocol that waives consent (`design.registration: retrospective`) this registers the case: no
    consent date (400 `consent_date` if one is given), and the participant records the waiver;
    `enrollment_date` is the date of registration. A protocol with `design.groups` needs the case's `group`
    (400 `group` otherwise).

    Atomic, and the site's sequence row is locked (SELECT ... FOR UPDATE) before the number is taken, so
    that parallel enrollments at one site queue on that row: no duplicate, and a failed enrollment rolls its
    number back, so no gap either.

    Once the study has reached its target enrollment, a further one needs `beyond_target` (409 otherwise):
    over-enrollment is a decision (sponsor, protocol amendment), not something that happens unnoticed.
    """
    require_site_staff(actor, screening.site, gettext_lazy("enroll participants"))
    version = screening.protocol_version  # a screening's version never changes: judged before the lock
    waived = version.retrospective
    _check_dates(
        site=screening.site, consent_date=consent_date, enrollment_date=enrollment_date, consent_waived=waived
    )
    group = _check_group(version, group)
    identity_data = _check_identity(identity)
    with transaction.atomic(durable=True), audit_context(actor=actor):
        screening = (
            Screening.objects.select_for_update(of=("self",))
            .select_related("site", "protocol_version", "study")
            .get(pk=screening.pk)
        )
        if Participant.objects.filter(screening=screening).exists():
            raise Conflict(_("This screening is already enrolled."), code="already_enrolled")
        if screening.outcome != Outcome.ELIGIBLE:
            raise Conflict(
                _("Only an eligible screening can be enrolled; this one is %(outcome)s.")
                % {"outcome": screening.get_outcome_display()},
                code="not_eligible",
            )
        if enrollment_date < screening.screening_date:
            raise InvalidInput(
                _("Enrollment cannot precede screening."),
                field_errors={"enrollment_date": [_("The enrollment date is before the screening date.")]},
            )
        _check_target(screening, beyond_target=beyond_target)
        sequence, _created = SiteSequence.objects.select_for_update().get_or_create(site=screening.site)
        sequence.last_number += 1
        sequence.save(update_fields=["last_number"])
        participant = Participant.objects.create(
            site=screening.site,
            screening=screening,
            study_id=screening.protocol_version.study_id_format.format(
                site=screening.site.code, number=sequence.last_number
            ),
            sequence=sequence.last_number,
            consent_date=None if waived else consent_date,
            consent_waived=waived,
            enrollment_date=enrollment_date,
            group=group,
            enrolled_by=actor,
        )
        ParticipantIdentity.objects.create(participant=participant, **identity_data)
        if screening.not_enrolled_reason:  # the patient changed their mind: enrollment supersedes the reason
            screening.not_enrolled_reason = ""
            screening.save(update_fields=["not_enrolled_reason", "updated_at"])
        _follow_up(participant, actor)
        return participant


def study_target_reached(study_id: int, target: int) -> bool:
    """The study has enrolled its target (at every site: the target is the study's, not a site's)."""
    return Participant.objects.filter(site__study_id=study_id).count() >= target


def _check_target(screening: Screening, *, beyond_target: bool) -> None:
    target = screening.protocol_version.target_enrollment
    if not beyond_target and study_target_reached(screening.study_id, target):
        message = _(
            "The study has reached its target of %(target)s participants. Enrolling beyond it must be "
            "confirmed (a decision of the sponsor or an amendment)."
        ) % {"target": target}
        raise Conflict(message, code="beyond_target", field_errors={"beyond_target": [message]})


def _follow_up(participant: Participant, actor) -> None:
    """Visits follow enrollment and status changes, in the same transaction (followup's hook)."""
    hooks.participant_status_changed(participant=participant, actor=actor)


# Which status may follow which. Withdrawal is final: coming back would need new consent, so a new
# enrollment. A participant lost to follow-up who turns up again is reinstated. Death is final too, and is
# recorded apart from withdrawal because it is a competing risk for re-fracture, not censoring.
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ParticipantStatus.ENROLLED: (
        ParticipantStatus.WITHDRAWN,
        ParticipantStatus.LOST_TO_FOLLOW_UP,
        ParticipantStatus.DIED,
    ),
    ParticipantStatus.LOST_TO_FOLLOW_UP: (
        ParticipantStatus.ENROLLED,
        ParticipantStatus.WITHDRAWN,
        ParticipantStatus.DIED,
    ),
    ParticipantStatus.WITHDRAWN: (),
    ParticipantStatus.DIED: (),
}


def participant_set_status(*, actor, participant: Participant, status: str, date, reason: str) -> Participant:
    """Withdraw a participant, mark them lost to follow-up, or reinstate one who was lost. Data is kept.

    Atomic with a row lock so that two status changes of one participant cannot interleave.
    """
    if status not in STATUS_TRANSITIONS:
        raise InvalidInput(_("Unknown status."), field_errors={"status": [_("Unknown status.")]})
    if not (reason or "").strip():
        raise ReasonRequired(_("A reason is required."), field_errors={"reason": [_("Give the reason.")]})
    require_site_staff(actor, participant.site, gettext_lazy("change the status of a participant"))
    if not isinstance(date, datetime.date):
        raise InvalidInput(_("Give the date."), field_errors={"date": [_("Give the date (YYYY-MM-DD).")]})
    if date > site_today(participant.site):
        raise InvalidInput(
            _("The date cannot be in the future."),
            field_errors={"date": [_("The date cannot be in the future.")]},
        )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason.strip()):
        participant = (
            Participant.objects.select_for_update(of=("self",)).select_related("site").get(pk=participant.pk)
        )
        if status not in STATUS_TRANSITIONS[participant.status]:
            raise Conflict(
                _("A participant who is %(current)s cannot become %(new)s.")
                % {
                    "current": participant.get_status_display(),
                    "new": ParticipantStatus(status).label,
                },
                code="status_transition",
            )
        earliest = participant.status_date or participant.enrollment_date
        if date < earliest:
            raise InvalidInput(
                _("The date is before the last status change or enrollment."),
                field_errors={"date": [_("The date must be on or after %(date)s.") % {"date": earliest}]},
            )
        participant.status, participant.status_date = status, date
        participant.status_reason = reason.strip()
        participant.save(update_fields=["status", "status_date", "status_reason"])
        _follow_up(participant, actor)
        return participant


@sensitive_variables("changes", "clean")
def participant_identity_update(*, actor, participant: Participant, changes: Mapping, reason: str):
    """Correct identifying data (a new phone number, a typo in a name): own site staff only, with a reason.

    Atomic with a row lock on the identity, so two corrections cannot interleave.
    """
    reason = reason_required(reason)
    # The one rule of site-staff writes is also who reads identifying data: the participant's own site staff.
    require_site_staff(actor, participant.site, gettext_lazy("correct identifying data"))
    if not changes:
        raise InvalidInput(_("Nothing to change: name the fields to correct."))
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=reason.strip()):
        identity = ParticipantIdentity.objects.select_for_update().get(participant=participant)
        current = {key: getattr(identity, key) for key in (*IDENTITY_FIELDS, CONTACT_LANGUAGE)}
        clean = _check_identity({**current, **changes})
        for key, value in clean.items():
            setattr(identity, key, value)
        if clean != current:
            identity.save()
        return identity
