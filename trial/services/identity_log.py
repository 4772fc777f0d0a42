"""Writing the log of reads of identifying data (trial.models.IdentityRead): one row per participant shown,
written before the data leaves, in one INSERT whatever the number of rows."""

from collections.abc import Iterable

from ..models import IdentityRead, Participant


def identity_read_log(*, actor, participants: Iterable[Participant], shown: str, channel: str) -> int:
    """Record that `actor` is being shown the identifying data (`shown`, an IdentityShown value) of each of
    `participants` through `channel` (an IdentityChannel value); the number of rows written.

    One INSERT, no transaction of its own: a single statement is atomic, and a failure to log escapes to the
    caller before anything identifying is answered."""
    rows = [
        IdentityRead(user=actor, participant_id=p.pk, site_id=p.site_id, shown=shown, channel=channel)
        for p in participants
    ]
    if rows:
        IdentityRead.objects.bulk_create(rows)
    return len(rows)
