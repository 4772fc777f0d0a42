"""Data queries: automatic ones kept in step with a form's soft warnings, and the manual thread of raise,
answer, close and reopen."""

import datetime
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trial.access import require_role_at
from trial.audit import audit_context
from trial.errors import Conflict, InvalidInput
from trial.i18n import DEFAULT_LANGUAGE

from ..engine import messages
from ..engine.definitions import FormDef, form_definition
from ..engine.paths import flatten, group_keys
from ..engine.validate import Warning
from ..models import DataQuery, FormRecord, QueryAction, QueryMessage, QueryStatus
from .common import ENTRY_ROLES, MONITOR_ROLES


def sync_auto_queries(record: FormRecord, warnings: list[Warning], form: FormDef) -> None:
    """Keep a record's automatic queries in step with its soft warnings. Four SQL queries at most.

    - A warning with no live query opens one, remembering the value that raised it; but if a person closed
      the last query of that check and value, their decision stands until the value changes.
    - A live query whose warning went away is closed as resolved by the data, unless a person reopened it:
      then only a person closes it.
    """
    values = flatten(record.data, group_keys(form))
    live, last_closed = {}, {}
    for query in DataQuery.objects.filter(record=record, auto=True).order_by("created_at", "id"):
        key = (query.check_code, query.field_path)
        (last_closed if query.status == QueryStatus.CLOSED else live)[key] = query
    wanted = {(w.check, w.path): w for w in warnings}
    new = []
    for key, warning in wanted.items():
        closed = last_closed.get(key)
        value = values.get(warning.path)
        if key in live or (closed and not closed.resolved_by_data and closed.trigger_value == value):
            continue
        new.append(
            DataQuery(
                record=record,
                field_path=warning.path,
                check_code=warning.check,
                auto=True,
                trigger_value=value,
            )
        )
    resolved = [q for key, q in live.items() if key not in wanted and not q.reopened]
    now = timezone.now()
    DataQuery.objects.bulk_create(new)
    for query in resolved:
        query.status, query.closed_at, query.resolved_by_data = QueryStatus.CLOSED, now, True
    DataQuery.objects.bulk_update(resolved, ["status", "closed_at", "resolved_by_data", "updated_at"])
    QueryMessage.objects.bulk_create(
        [
            _machine_message(q, QueryAction.RAISE, w.message_code, w.message_params, fallback=w.message)
            for q, w in ((q, wanted[(q.check_code, q.field_path)]) for q in new)
        ]
        + [_machine_message(q, QueryAction.CLOSE, messages.RESOLVED_BY_DATA, {}) for q in resolved]
    )


def _machine_message(
    query: DataQuery, action: str, code: str, params: dict, *, fallback: str = ""
) -> QueryMessage:
    """A thread message the machine writes: its code and parameters, shown in each reader's language, and its
    English text for whoever reads the table itself (the same text whatever the saver's language)."""
    text = messages.message_text(code, params, fallback=fallback, language=DEFAULT_LANGUAGE)
    return QueryMessage(query=query, action=action, code=code, params=params, text=text)


def _query_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write a message."), field_errors={"text": [_("Write a message.")]})
    if len(text) > 2000:
        raise InvalidInput(
            _("The message is too long."), field_errors={"text": [_("At most 2000 characters.")]}
        )
    return text


FIELD_PATH = re.compile(r"^(?P<code>[a-z][a-z0-9_]*)(?:\[(?P<key>[^\]]{1,32})\]\.(?P<sub>[a-z][a-z0-9_]*))?$")


def _check_field_path(record: FormRecord, field_path: str) -> None:
    """A query names one value that exists: a top-level field, or a field of an existing row."""
    form = form_definition(record.form_code)
    match = FIELD_PATH.match(field_path)
    group = form.group(match["code"]) if match and form else None
    if match and form and match["sub"] is None and form.field(match["code"]):
        return
    if (
        match
        and group
        and group.field(match["sub"] or "")
        and any(row.get(group.key) == match["key"] for row in record.data.get(group.code, []))
    ):
        return
    raise InvalidInput(_("Unknown field."), field_errors={"field_path": [_("Name a field of this form.")]})


def query_raise(*, actor, record: FormRecord, field_path: str, text: str) -> DataQuery:
    """A monitor or data manager asks about one value of a form."""
    text = _query_text(text)
    require_role_at(actor, record.participant.site, MONITOR_ROLES, gettext_lazy("raise a query on this form"))
    _check_field_path(record, field_path)
    with transaction.atomic(durable=True), audit_context(actor=actor):
        query = DataQuery.objects.create(record=record, field_path=field_path, raised_by=actor)
        QueryMessage.objects.create(query=query, action=QueryAction.RAISE, author=actor, text=text)
        return query


QUERY_STEPS = {
    # action: (roles allowed, what they do, statuses it applies to, status after). Answering is a site-staff
    # write: a coordinator or investigator of the query's site (trial.access.roles_at).
    QueryAction.ANSWER: (
        ENTRY_ROLES,
        gettext_lazy("answer this query"),
        (QueryStatus.OPEN,),
        QueryStatus.ANSWERED,
    ),
    QueryAction.CLOSE: (
        MONITOR_ROLES,
        gettext_lazy("close this query"),
        (QueryStatus.OPEN, QueryStatus.ANSWERED),
        QueryStatus.CLOSED,
    ),
    QueryAction.REOPEN: (
        MONITOR_ROLES,
        gettext_lazy("reopen this query"),
        (QueryStatus.ANSWERED, QueryStatus.CLOSED),
        QueryStatus.OPEN,
    ),
}


def query_step(*, actor, query: DataQuery, action: str, text: str) -> DataQuery:
    """Answer (coordinator), close or reopen (monitor, data manager) a query, with a message in its thread."""
    roles, doing, allowed_from, after = QUERY_STEPS[action]
    text = _query_text(text)
    require_role_at(actor, query.record.participant.site, roles, doing)
    with transaction.atomic(durable=True), audit_context(actor=actor, reason=text[:200]):
        # The form's row first, as crf_save does: a reopen and an automatic sync cannot interleave.
        FormRecord.objects.select_for_update().filter(pk=query.record_id).exists()
        query = DataQuery.objects.select_for_update().get(pk=query.pk)
        if query.status not in allowed_from:
            raise Conflict(
                _("A %(status)s query cannot be %(action)s.")
                % {"status": query.get_status_display(), "action": QueryAction(action).label},
                code="bad_transition",
            )
        if (
            action == QueryAction.REOPEN
            and query.auto
            and (
                DataQuery.objects.filter(
                    record_id=query.record_id,
                    auto=True,
                    check_code=query.check_code,
                    field_path=query.field_path,
                )
                .exclude(status=QueryStatus.CLOSED)
                .exclude(pk=query.pk)
                .exists()
            )
        ):
            raise Conflict(_("A newer query on this value is open; continue in that one."), code="superseded")
        query.status = after
        query.closed_at = timezone.now() if after == QueryStatus.CLOSED else None
        query.reopened = query.reopened or action == QueryAction.REOPEN
        query.save(update_fields=["status", "closed_at", "reopened", "updated_at"])
        QueryMessage.objects.create(query=query, action=action, author=actor, text=text)
        return query


def query_age_days(query: DataQuery, today: datetime.date) -> int:
    return (today - timezone.localdate(query.created_at)).days
