"""Reads of CRF data that pages and the API share, with their joins set."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from trial.access import visible_sites
from trial.selectors import history_for, participant_list

from .engine.definitions import form_definition
from .engine.paths import flatten, group_keys
from .hooks import VisitLike, visit_of
from .models import DataQuery, FormRecord, QueryMessage, QueryStatus


def crf_participants(*, user) -> QuerySet:
    """Participants whose CRFs the user may read: their sites, never as an adjudicator (blind)."""
    return participant_list(user=user).select_related("screening__protocol_version")


def participant_visit(participant, visit_code: str | None) -> VisitLike | None:
    """The participant's visit by code (one query); None when none is asked; 404 for a code the participant
    has not (another participant's visit code included)."""
    if visit_code is None:
        return None
    visit = visit_of(participant=participant, code=visit_code)
    if visit is None:
        raise Http404(_("No such visit for this participant."))
    return visit


def form_grid(participant) -> dict[str, FormRecord]:
    """The participant's participant-level records by form code, each with its count of live queries (one
    query). Forms collected at visits are on the participant's follow-up timeline."""
    records = FormRecord.objects.filter(participant=participant, visit_code="").annotate(
        live_queries=Count("queries", filter=~Q(queries__status=QueryStatus.CLOSED))
    )
    return {record.form_code: record for record in records}


def query_list(*, user) -> QuerySet:
    """Queries on the user's sites (never an adjudicator's), newest first, with their record, participant,
    site and thread joined. Filtered by the query's own site column (indexed with the order), so neither the
    page nor its count joins the records and participants."""
    return (
        DataQuery.objects.filter(site__in=visible_sites(user))
        .select_related("record__participant__site", "raised_by")
        .defer("record__data")  # the form's whole data, which a query list never shows
        .prefetch_related(Prefetch("messages", queryset=QueryMessage.objects.select_related("author")))
        .order_by("-created_at", "-id")
    )


def form_history(record: FormRecord, *, field: str = "") -> list[dict]:
    """Audit events of a form with per-value changes (old -> new); `field` keeps only that value's changes."""
    form = form_definition(record.form_code)
    keys = group_keys(form)
    events = []
    for event in history_for(record):
        changes = []
        for change in event["changes"]:
            if change["field"] == "data":
                old, new = flatten(change["old"], keys), flatten(change["new"], keys)
                changes += [
                    {"field": path, "old": old.get(path), "new": new.get(path)}
                    for path in sorted(set(old) | set(new))
                    if old.get(path) != new.get(path)
                ]
            elif change["field"] in ("status", "form_version"):
                changes.append(change)
        if event["event"] == "insert":
            inserted = flatten(event["data"].get("data"), keys)
            changes = [{"field": path, "old": None, "new": value} for path, value in inserted.items()]
        if field:
            changes = [c for c in changes if c["field"] == field or c["field"].startswith(f"{field}.")]
            if not changes:
                continue
        events.append({**event, "changes": changes})
    return events
