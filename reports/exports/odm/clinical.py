"""ClinicalData: what was read of the study, as at the cut, one SubjectData at a time.

The reads are three streams on server-side cursors, each sorted by participant (its database id): the
participants, every audit event of their form records (crf.FormRecordEvent, pghistory: the record as it was
after each insert, update or delete, with the context that says who did it and why), and the signatures in
force at the cut. They are merged participant by participant, so a participant's events are in memory only
while their SubjectData is built, and the number of queries does not depend on the number of participants.

A record is taken as it stood at the cut: its events up to then, the last one its state (a record deleted by
then is left out). Each item's AuditRecord is the event that last set its value: the first event after which
the item has the value it ends with, with no change after it.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import BigIntegerField, F, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from lxml import etree

from crf.models import Signature
from trial.models import Participant

from ..deid import salted_order
from .layout import Form, Layout, item_value, xml_text
from .metadata import el, q

# Rows fetched per round trip on each server-side cursor. An event row carries a whole record's data (about
# 1 kB), so 2,000 of them are a couple of megabytes in flight: memory stays flat, round trips stay few.
BATCH = 2000


def record_events():
    return apps.get_model("crf", "FormRecordEvent")


def events_in_cut(*, study, cut_at: datetime.datetime):
    """The audit events of the form records of the study's participants enrolled by the cut, recorded by it.

    The record's own `updated_at` (as the event stored it) dates the change: the application's clock, the
    one every other time of the export uses, and for data loaded in bulk (the demo) the time it was entered,
    where the database's pgh_created_at would say when the load ran.
    """
    return record_events().objects.filter(
        participant__site__study=study, participant__created_at__lte=cut_at, updated_at__lte=cut_at
    )


def actor_expression():
    """Who made a change: the user of the audit context (the request's or the service's actor), else the
    user the record names as its last editor (bulk loads, which run in a context without a user)."""
    return Coalesce(
        Cast(KeyTextTransform("user", "pgh_context__metadata"), BigIntegerField()),
        F("updated_by_id"),
        output_field=BigIntegerField(),
    )


def signatures_in_force(*, study, cut_at: datetime.datetime):
    """Signatures made by the cut and not invalidated by then (a change after signing invalidates one)."""
    return Signature.objects.filter(
        record__participant__site__study=study,
        record__participant__created_at__lte=cut_at,
        signed_at__lte=cut_at,
    ).filter(Q(invalidated_at__isnull=True) | Q(invalidated_at__gt=cut_at))


def participant_rows(*, study, cut_at, salt=None) -> Iterator[tuple]:
    """(id, study ID, site code) of each participant enrolled by the cut. Never their identity. In id order,
    or de-identified in an order drawn from the salt (deid.salted_order), as every stream merged with it."""
    return (
        Participant.objects.filter(site__study=study, created_at__lte=cut_at)
        .order_by(*salted_order(salt, "study_id", "pk"))
        .values_list("pk", "study_id", "site__code")
        .iterator(chunk_size=BATCH)
    )


def event_rows(*, study, cut_at, salt=None) -> Iterator[tuple]:
    """(participant id, record id, label, visit code, form code, data, time, actor, reason) of each event."""
    return (
        events_in_cut(study=study, cut_at=cut_at)
        .annotate(actor=actor_expression(), reason=KeyTextTransform("reason", "pgh_context__metadata"))
        .order_by(*salted_order(salt, "participant__study_id", "participant_id"), "pgh_obj_id", "pgh_id")
        .values_list(
            "participant_id",
            "pgh_obj_id",
            "pgh_label",
            "visit_code",
            "form_code",
            "data",
            "updated_at",
            "actor",
            "reason",
        )
        .iterator(chunk_size=BATCH)
    )


def signature_rows(*, study, cut_at, salt=None) -> Iterator[tuple]:
    """(participant id, record id, signer id, meaning, time) of each signature in force, the latest last."""
    return (
        signatures_in_force(study=study, cut_at=cut_at)
        .order_by(
            *salted_order(salt, "record__participant__study_id", "record__participant_id"),
            "record_id",
            "signed_at",
            "pk",
        )
        .values_list("record__participant_id", "record_id", "signer_id", "meaning", "signed_at")
        .iterator(chunk_size=BATCH)
    )


class Merged:
    """The rows of one participant at a time from a stream sorted by participant id (the first column)."""

    def __init__(self, rows: Iterable[tuple]):
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def take(self, participant_id: int) -> list[tuple]:
        """This participant's rows. Every stream lists the participants in the participants' own order and
        only those (deid.salted_order): the next rows are this participant's, or a later one's."""
        taken = []
        while self._next is not None and self._next[0] == participant_id:
            taken.append(self._next)
            self._next = next(self._rows, None)
        return taken


def timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Counts:
    subjects: int = 0
    forms: int = 0
    items: int = 0
    audit_records: int = 0
    signatures: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Subject:
    """How one participant is written: the key, the site, and the de-identification to apply."""

    key: str
    site: str
    shift: Callable[[datetime.date], datetime.date] | None = None  # dates moved back (de-identified)
    days: int = 0  # the same shift, for times
    free_text: bool = True  # free-text items written (not when de-identified)
    reasons: bool = True  # reasons for change written (typed text: not when de-identified)
    counts: Counts = field(default_factory=Counts)


def record_values(form: Form, data, subject: Subject) -> dict[tuple, str]:
    """{(item group OID, repeat key or None, item OID): Value} of a record's data, in the layout's order."""
    data = data if isinstance(data, dict) else {}
    values = {}
    for group in form.groups:
        if group.group is None:
            scopes = [(None, data)]
        else:
            rows = data.get(group.group.code)
            rows = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
            scopes = [(str(row.get(group.group.key) or f"#{i}"), row) for i, row in enumerate(rows, start=1)]
        for key, scope in scopes:
            for item in group.items:
                if item.free_text and not subject.free_text:
                    continue
                value = item_value(item, scope.get(item.field.code), subject.shift)
                if value is not None:
                    values[(group.oid, key, item.oid)] = value
    return values


def audit_of(event: tuple, subject: Subject) -> tuple[str, str, str]:
    """(user OID, time, reason) of an event row."""
    moment = event[6] - datetime.timedelta(days=subject.days)
    reason = xml_text((event[8] or "").strip()) if subject.reasons else ""
    return f"USR.{event[7]}", timestamp(moment), reason


def record_state(form: Form, events: list[tuple], subject: Subject) -> tuple[dict, dict]:
    """The record's values as its last event left them, and for each the audit of the event that set it."""
    values: dict[tuple, str] = {}
    set_by: dict[tuple, tuple] = {}
    for event in events:
        now = record_values(form, event[5], subject)
        audit = None
        for key, value in now.items():
            if values.get(key) != value:
                set_by[key] = audit = audit or audit_of(event, subject)
        values = now
    return values, set_by


# The elements written for every value, named once: this is the loop that runs millions of times.
ITEM_GROUP, ITEM, AUDIT = q("ItemGroupData"), q("ItemData"), q("AuditRecord")
SubElement = etree.SubElement


def _audit_record(audit: tuple, site: str) -> etree._Element:
    """An AuditRecord to copy under each item the change set (a copy is twice as fast as building one)."""
    user, moment, reason = audit
    holder = el(None, "Holder")  # declares the namespace, so that a copy carries no declaration of its own
    node = el(holder, "AuditRecord")
    el(node, "UserRef", UserOID=user)
    el(node, "LocationRef", LocationOID=f"LOC.{site}")
    el(node, "DateTimeStamp", moment)
    if reason:
        el(node, "ReasonForChange", reason)
    return node


def _form_data(parent, form: Form, record: tuple, subject: Subject) -> None:
    values, set_by, signature = record
    node = el(parent, "FormData", FormOID=form.oid)
    subject.counts.forms += 1
    if signature is not None:
        _pid, _record, signer, meaning, signed_at = signature
        sign = el(node, "Signature")
        el(sign, "UserRef", UserOID=f"USR.{signer}")
        el(sign, "LocationRef", LocationOID=f"LOC.{subject.site}")
        el(sign, "SignatureRef", SignatureOID=f"SD.{meaning}")
        el(sign, "DateTimeStamp", timestamp(signed_at - datetime.timedelta(days=subject.days)))
        subject.counts.signatures += 1
    audits: dict[tuple, etree._Element] = {}
    group_node, group_at = None, None
    for key, value in values.items():
        group_oid, repeat_key, item_oid = key
        if (group_oid, repeat_key) != group_at:
            group_at = (group_oid, repeat_key)
            attributes = {"ItemGroupOID": group_oid}
            if repeat_key is not None:
                attributes["ItemGroupRepeatKey"] = xml_text(repeat_key)
            group_node = SubElement(node, ITEM_GROUP, attributes)
        audit = set_by[key]
        template = audits.get(audit)
        if template is None:
            template = audits[audit] = _audit_record(audit, subject.site)
        # lxml's __copy__ copies the whole subtree, without copy.deepcopy's memo bookkeeping.
        SubElement(group_node, ITEM, {"ItemOID": item_oid, "Value": value}).append(template.__copy__())
    subject.counts.items += len(values)
    subject.counts.audit_records += len(values)


def subject_element(
    *, layout: Layout, subject: Subject, events: list[tuple], signatures: list[tuple]
) -> etree._Element:
    """One participant's SubjectData: a StudyEventData per event (enrollment, each visit) with its forms."""
    by_record: dict[int, list[tuple]] = {}
    for event in events:
        by_record.setdefault(event[1], []).append(event)
    signed = {row[1]: row for row in signatures}  # the latest in force, since they come oldest first
    placed = {}
    event_order = {event.oid: index for index, event in enumerate(layout.events)}
    for record_id, record_events_ in by_record.items():
        last = record_events_[-1]
        form = layout.forms.get(last[4])
        if last[2] == "delete" or form is None:
            continue
        event, repeat_key = layout.event_of(last[3])
        values, set_by = record_state(form, record_events_, subject)
        place = (event_order[event.oid], _unscheduled_number(repeat_key), repeat_key, event.oid)
        placed.setdefault(place, []).append((form, (values, set_by, signed.get(record_id))))
    node = el(None, "SubjectData", SubjectKey=subject.key)
    el(node, "SiteRef", LocationOID=f"LOC.{subject.site}")
    for (_order, _number, repeat_key, event_oid), records in sorted(placed.items()):
        event_node = el(node, "StudyEventData", StudyEventOID=event_oid, StudyEventRepeatKey=repeat_key)
        forms_order = list(layout.forms)
        for form, record in sorted(records, key=lambda entry: forms_order.index(entry[0].definition.code)):
            _form_data(event_node, form, record, subject)
    subject.counts.subjects += 1
    return node


def _unscheduled_number(repeat_key: str | None) -> int:
    return int(repeat_key[1:]) if repeat_key else 0
