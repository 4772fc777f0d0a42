"""Every write to CRF data, by concept: records (save with optimistic concurrency), the life cycle,
e-signatures and data queries. `common` holds what they share (roles, which forms a participant has, row
locks). Callers import from here: `from crf import services; services.crf_save(...)`.

Life cycle: (not started) -> draft -> complete -> verified -> signed -> locked. Editing a complete, verified
or signed form needs a reason, invalidates its signature and clears its verification. Unlocking needs a
reason.

A record is found by (participant, form code, visit code): the forms the protocol lists once have the empty
visit code; the forms a visit collects (its `forms`, e.g. the follow-up MRI at M12) have one record per
visit. Every service takes `visit=None` for the first kind, or the visit (crf.hooks.VisitLike).
"""

from .common import (
    EDITED_AFTER_COMPLETION,
    ENTRY_ROLES,
    LOCKING_ROLES,
    MONITOR_ONLY,
    MONITOR_ROLES,
    SIGNING_ROLES,
    check_context,
    enabled_forms,
    form_for,
    participant_forms_data,
    visit_forms,
)
from .lifecycle import crf_complete, crf_lock, crf_unlock, crf_verify
from .queries import query_age_days, query_raise, query_step
from .records import crf_save
from .signatures import SIGNING_ATTEMPTS, SIGNING_LOCKOUT_SECONDS, crf_sign, data_fingerprint

__all__ = [
    "EDITED_AFTER_COMPLETION",
    "ENTRY_ROLES",
    "LOCKING_ROLES",
    "MONITOR_ONLY",
    "MONITOR_ROLES",
    "SIGNING_ATTEMPTS",
    "SIGNING_LOCKOUT_SECONDS",
    "SIGNING_ROLES",
    "check_context",
    "crf_complete",
    "crf_lock",
    "crf_save",
    "crf_sign",
    "crf_unlock",
    "crf_verify",
    "data_fingerprint",
    "enabled_forms",
    "form_for",
    "participant_forms_data",
    "query_age_days",
    "query_raise",
    "query_step",
    "visit_forms",
]
