"""E-signatures (21 CFR 11.50, 11.70, 11.200, 11.300(d)): the password again, printed name, time and meaning,
linked to the record version and a SHA-256 of its data."""

import hashlib
import json
import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trial.audit import audit_context
from trial.errors import Forbidden, InvalidInput
from trial.models import Participant

from ..models import FormStatus, Signature, SignatureMeaning
from .common import SIGNING_ROLES
from .lifecycle import transition

logger = logging.getLogger(__name__)


def data_fingerprint(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


SIGNING_ATTEMPTS = 5  # wrong passwords allowed before signing is refused for a while (21 CFR 11.300(d))
SIGNING_LOCKOUT_SECONDS = 15 * 60


def _attempts_key(actor) -> str:
    return f"crf:sign-failures:{actor.pk}:{actor.date_joined.timestamp():.0f}"


def _refuse_if_locked_out(actor) -> None:
    if (cache.get(_attempts_key(actor)) or 0) >= SIGNING_ATTEMPTS:
        raise Forbidden(
            _("Too many wrong passwords: signing is blocked for %(minutes)s minutes.")
            % {"minutes": SIGNING_LOCKOUT_SECONDS // 60},
            code="signing_locked_out",
        )


def _count_failed_signature(actor) -> None:
    """Count a wrong signing password (kept in Redis for the lock-out window) and log it without identity."""
    key = _attempts_key(actor)
    cache.add(key, 0, SIGNING_LOCKOUT_SECONDS)
    failures = cache.incr(key)
    logger.warning("e-signature refused: wrong password for user id %s (failure %s)", actor.pk, failures)


def signer_confirm(*, actor, password: str, refused: str) -> str:
    """The signer's printed name, once their password is given again (21 CFR 11.200): the one check of every
    e-signature (forms here, adjudication verdicts in followup). 400 for an account without a full name
    (11.50 prints it); 403 `bad_password` with `refused` beside the password, counted towards the lock-out
    (11.300(d)); 403 `signing_locked_out` while locked out."""
    printed_name = actor.get_full_name().strip()
    if not printed_name:
        raise InvalidInput(
            _(
                "Your account has no full name; a signature shows the signer's printed name (21 CFR 11.50). "
                "Ask the data manager to add it."
            ),
            field_errors={"printed_name": [_("No full name on this account.")]},
        )
    _refuse_if_locked_out(actor)
    if not password or not actor.check_password(password):
        _count_failed_signature(actor)
        # A wrong password is a mistake in the input (shown beside it), not a refusal of the signer's role.
        raise Forbidden(refused, code="bad_password", field_errors={"password": [refused]})
    return printed_name


def crf_sign(
    *,
    actor,
    participant: Participant,
    form_code: str,
    password: str,
    meaning: str,
    expected_version: int | None = None,
    visit=None,
) -> Signature:
    """An investigator's e-signature: the password again (11.200), printed name, time and meaning (11.50),
    linked to the record version and a hash of its data (11.70)."""
    if meaning not in SignatureMeaning.values:
        raise InvalidInput(
            _("Choose the meaning of the signature."), field_errors={"meaning": [_("Invalid.")]}
        )
    printed_name = signer_confirm(
        actor=actor, password=password, refused=_("The password is not correct; the form was not signed.")
    )
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=f"signature: {meaning}"):
        _form, record = transition(
            actor=actor,
            participant=participant,
            form_code=form_code,
            expected_version=expected_version,
            visit=visit,
            roles=SIGNING_ROLES,
            doing=gettext_lazy("sign this form"),
            attests=True,
            allowed_from=(FormStatus.VERIFIED,),
        )
        now = timezone.now()
        record.status, record.version = FormStatus.SIGNED, record.version + 1
        record.save(update_fields=["status", "version", "updated_at"])
        return Signature.objects.create(
            record=record,
            signer=actor,
            printed_name=printed_name,
            meaning=meaning,
            signed_at=now,
            record_version=record.version,
            data_sha256=data_fingerprint(record.data),
        )
