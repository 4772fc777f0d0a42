"""API tokens (django-rest-knox): issued with an expiry, revoked one by one or all of a user's at once."""

import datetime

from django.conf import settings
from knox.models import AuthToken


def api_token_issue(*, user) -> tuple[str, datetime.datetime]:
    """A new token for `user` and the instant it expires (REST_KNOX TOKEN_TTL, from API_TOKEN_HOURS).

    Only the token's SHA-512 digest is stored: the key returned here is shown once and never again.
    """
    instance, key = AuthToken.objects.create(user=user, expiry=settings.REST_KNOX["TOKEN_TTL"])
    return key, instance.expiry


def api_tokens_revoke(*, user) -> int:
    """Delete every API token of `user` (logout-all, a changed password); returns how many there were."""
    deleted, _by_model = AuthToken.objects.filter(user=user).delete()
    return deleted
