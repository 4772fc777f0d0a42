"""Messages to staff members (a recipient, no participant): each kind says how its text is made, when it no
longer applies and by whose clock its quiet hours run.

The digests are one kind (registered by followup at start-up); a higher app adds its own in its
AppConfig.ready() (reports: "a report is ready"), so the dispatcher sends them without importing that app.
A staff message of a kind nobody registered fails visibly (note not_composed), never silently.
"""

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from .channels import Outgoing
from .models import OutboxMessage
from .notes import Note


@dataclass(frozen=True)
class StaffMessageKind:
    compose: Callable[[OutboxMessage], Outgoing]  # the text now, in message.language (outside a transaction)
    no_longer_applies: Callable[[OutboxMessage], Note | None]  # why not now (re-read under the row's lock)
    zone: Callable[[OutboxMessage], zoneinfo.ZoneInfo]  # whose wall clock the quiet hours are judged by


STAFF_MESSAGE_KINDS: dict[str, StaffMessageKind] = {}


def staff_message_kind_register(kind: str, handler: StaffMessageKind) -> None:
    """Declare how the dispatcher sends staff messages of `kind` (a MessageKind value). Registering the same
    handler again is a no-op (ready() may run twice); a different one for a taken kind is a bug."""
    taken = STAFF_MESSAGE_KINDS.get(kind)
    if taken is not None and taken != handler:
        raise ValueError(f"staff message kind {kind!r} is registered already")
    STAFF_MESSAGE_KINDS[kind] = handler
