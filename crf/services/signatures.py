"""E-signatures (21 CFR 11.50, 11.70, 11.200, 11.300(d)): the user ID and password (the password alone after
the first signing of a session, 11.200(a)(1): signing_session.py), printed name, time and meaning, linked to
the record version and a SHA-256 of its data."""

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
from .signing_session import SigningSession

logger = logging.getLogger(__name__)


def data_fingerprint(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


SIGNING_ATTEMPTS = 5  # wrong user IDs or passwords before signing is refused for a while (21 CFR 11.300(d))
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
    """Count a wrong signing user ID or password (kept in Redis for the lock-out window) and log it without
    identity."""
    key = _attempts_key(actor)
    cache.add(key, 0, SIGNING_LOCKOUT_SECONDS)
    failures = cache.incr(key)
    logger.warning("e-signature refused: wrong credentials for user pk %s (failure %s)", actor.pk, failures)


def signer_confirm(
    *,
    actor,
    session: SigningSession | None,
    username: str,
    password: str,
    refused: str,
    not_your_user_id: str,
) -> str:
    """The signer's printed name, once they have given the e-signature's components again (21 CFR 11.200):
    the one check of every e-signature (forms here, adjudication verdicts in followup).

    The first signing of a `session` (none: every signing) needs the user ID and the password, later ones
    the password (11.200(a)(1)); a user ID given anyway must be right. The user ID is the actor's own: no one
    signs for another. 400 for an account without a full name (11.50 prints it); 403 `bad_password` with
    `refused` beside the password, 403 `user_id_required` or `bad_user_id` (`not_your_user_id`) beside the
    username, each counted towards the lock-out (11.300(d)); 403 `signing_locked_out` while locked out.
    The caller records the signing in the session once it is saved (`SigningSession.record_signing`)."""
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
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    code = "bad_password"
    if username and username != actor.get_username():
        errors["username"], code = [not_your_user_id], "bad_user_id"
    elif not username and (session is None or not session.has_signed(actor)):
        missing = _("Type your user ID too: the first signature of a session needs it (21 CFR 11.200).")
        errors["username"], code = [missing], "user_id_required"
    # check_password, not authenticate(): the signer is signed in already, and signing keeps its own count.
    if not password or not actor.is_active or not actor.check_password(password):
        errors["password"], code = [refused], "bad_password"
    if errors:
        _count_failed_signature(actor)
        # A wrong password or user ID is a mistake in the input (shown beside it), not a refusal of the role.
        raise Forbidden(errors.get("password", errors.get("username"))[0], code=code, field_errors=errors)
    return printed_name


def crf_sign(
    *,
    actor,
    participant: Participant,
    form_code: str,
    password: str,
    meaning: str,
    username: str = "",
    session: SigningSession | None = None,
    expected_version: int | None = None,
    visit=None,
) -> Signature:
    """An investigator's e-signature: the user ID (first signing of the `session`) and the password again
    (11.200, signer_confirm), printed name, time and meaning (11.50), linked to the record version and a hash
    of its data (11.70)."""
    if meaning not in SignatureMeaning.values:
        raise InvalidInput(
            _("Choose the meaning of the signature."), field_errors={"meaning": [_("Invalid.")]}
        )
    printed_name = signer_confirm(
        actor=actor,
        session=session,
        username=username,
        password=password,
        refused=_("The password is not correct; the form was not signed."),
        not_your_user_id=_("This is not your user ID; the form was not signed."),
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
        signature = Signature.objects.create(
            record=record,
            signer=actor,
            printed_name=printed_name,
            meaning=meaning,
            signed_at=now,
            record_version=record.version,
            data_sha256=data_fingerprint(record.data),
        )
    if session is not None:
        session.record_signing(actor)  # once committed: a refused or failed signing is not the first
    return signature
