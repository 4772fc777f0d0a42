"""The study's primary endpoint, one row per participant: read in a fixed number of queries whatever the
number of participants, and judged by the one pure rule, followup.endpoint.endpoint_derive.

What a participant's row is drawn from:
- **the index date**: the protocol's `endpoint.index`, one of its `visits.anchors` (trial/protocols/
  FORMAT.md), resolved as the visits resolve it (services/visits.py): a date of the participant, or the date
  field of a form once that form is complete (a draft anchors nothing). No index date (not yet treated): no
  endpoint, the row says `no_index_date`;
- **the fractures**: the participant's cases whose adjudication is final with a new fracture: each
  adjudicated level, at the adjudicated event date, adjacent or remote as the case's location (the MRI form
  derives it from the treated levels). A cancelled case, a case still being read and a final "no fracture"
  are not events; a case still being read (open or disputed) marks the row `adjudication_pending`, since the
  row may change;
- **status and its date**: trial's Participant (withdrawn, lost to follow-up, died);
- **the last event-free assessment**: the latest completed visit on or before the data cut. A visit is a
  contact at which a new fracture is looked for, and the follow-up MRI is collected at a visit (scheduled, or
  unscheduled for new back pain), so the visit's date covers the exam's.

The endpoint's settings are read from the study's current protocol version, for every participant.
"""

import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from crf.models import FormRecord, FormStatus
from trial.errors import Conflict
from trial.models import Participant, Site, Study

from ..endpoint import Fracture, endpoint_derive
from ..models import AdjudicationCase, CaseStatus, Visit, VisitState
from ..schedule import anchor_date_of

NO_INDEX_DATE = "no_index_date"
IN_REVIEW = (CaseStatus.OPEN, CaseStatus.DISPUTED)
# Participants fetched from the database this many at a time when every row is read (an export): a few
# hundred kilobytes a batch, and 28 round trips for 56,000 participants on one query's server-side cursor.
BATCH = 2000


@dataclass(frozen=True)
class EndpointSettings:
    """The protocol's `endpoint:` section, and the anchor its index names ({participant} or {form, field})."""

    index: str
    horizon_days: int
    event_date: str  # how the adjudicated event is dated: confirming_mri | symptom_onset_when_recorded
    anchor: Mapping


@dataclass(frozen=True)
class EndpointRow:
    study_id: str
    site: str
    index_date: datetime.date | None
    event: bool
    event_date: datetime.date | None
    censor_date: datetime.date | None
    days: int | None  # from the index date to the event or the censoring
    levels: tuple[str, ...]
    location: str | None
    censor_reason: str | None  # followup.endpoint.CENSOR_REASONS, or no_index_date
    adjudication_pending: bool


def endpoint_settings(*, study: Study) -> EndpointSettings:
    """The endpoint the study's current protocol declares; 409 when it declares none."""
    definition = study.current_version.definition if study.current_version_id else {}
    spec = definition.get("endpoint")
    if not spec:
        raise Conflict(
            _("The protocol of study %(study)s declares no endpoint.") % {"study": study.code},
            code="no_endpoint",
        )
    return EndpointSettings(
        index=spec["index"],
        horizon_days=spec["horizon_days"],
        event_date=spec["event_date"],
        anchor=definition["visits"]["anchors"][spec["index"]],
    )


def study_today(*, sites: Iterable[Site], at: datetime.datetime | None = None) -> datetime.date:
    """The default data cut: the earliest of the sites' dates at `at` (now when None), a day that has begun at
    every one of them (no site can have dated anything later). The server's date without sites."""
    at = at or timezone.now()
    zones = {site.time_zone for site in sites}
    if not zones:
        return timezone.localdate(at)
    return min(timezone.localdate(at, timezone=zoneinfo.ZoneInfo(zone)) for zone in zones)


def _index_value(anchor: Mapping):
    if "participant" in anchor:
        return F(anchor["participant"])
    record = FormRecord.objects.filter(
        participant=OuterRef("pk"), form_code=anchor["form"], visit_code=""
    ).exclude(status=FormStatus.DRAFT)
    return Subquery(record.values(value=KT(f"data__{anchor['field']}"))[:1])


def endpoint_participant_ids(*, sites: Iterable[Site]) -> QuerySet:
    """The ids of the participants of these sites in study ID order: what a page of the endpoint cuts, cheaply
    (the rows' own subqueries run on that page only, never on the rows an offset skips)."""
    return Participant.objects.filter(site__in=sites).order_by("study_id").values_list("pk", flat=True)


def endpoint_participants(
    *, settings: EndpointSettings, data_cut: datetime.date, participants: QuerySet
) -> QuerySet:
    """These participants in study ID order, as dicts with their site, status, index value and last
    assessment before the cut, and whether a case of theirs is being read. One query."""
    last_visit = (
        Visit.objects.filter(participant=OuterRef("pk"), state=VisitState.COMPLETED, visit_date__lte=data_cut)
        .order_by("-visit_date")
        .values("visit_date")[:1]
    )
    in_review = AdjudicationCase.objects.filter(participant=OuterRef("pk"), status__in=IN_REVIEW)
    return (
        participants.annotate(
            index_value=_index_value(settings.anchor),
            last_assessed=Subquery(last_visit),
            adjudication_pending=Exists(in_review),
            site_code=F("site__code"),
        )
        .values(
            "pk",
            "study_id",
            "site_code",
            "status",
            "status_date",
            "index_value",
            "last_assessed",
            "adjudication_pending",
        )
        .order_by("study_id")
    )


def endpoint_fractures(cases: QuerySet) -> dict[int, list[Fracture]]:
    """{participant id: fractures} of the final cases among `cases` that found a new fracture. One query."""
    fractures: dict[int, list[Fracture]] = defaultdict(list)
    final = cases.filter(
        status=CaseStatus.FINAL, final_fracture=True, final_event_date__isnull=False
    ).order_by()  # grouped by participant here: no order to sort for
    for participant_id, levels, date, location in final.values_list(
        "participant_id", "final_levels", "final_event_date", "location"
    ):
        fractures[participant_id].extend(Fracture(date, level, location) for level in levels)
    return fractures


def endpoint_rows(
    *,
    settings: EndpointSettings,
    data_cut: datetime.date,
    participants: Iterable[Mapping],
    fractures: Mapping[int, list[Fracture]],
) -> Iterator[EndpointRow]:
    """The rows of these participants (from endpoint_participants) with their fractures. No query."""
    for participant in participants:
        index_date = anchor_date_of(participant["index_value"])
        common = {
            "study_id": participant["study_id"],
            "site": participant["site_code"],
            "index_date": index_date,
            "adjudication_pending": participant["adjudication_pending"],
        }
        if index_date is None:
            yield EndpointRow(
                **common,
                event=False,
                event_date=None,
                censor_date=None,
                days=None,
                levels=(),
                location=None,
                censor_reason=NO_INDEX_DATE,
            )
            continue
        result = endpoint_derive(
            index_date=index_date,
            horizon_days=settings.horizon_days,
            data_cut=data_cut,
            fractures=fractures.get(participant["pk"], ()),
            status=participant["status"],
            status_date=participant["status_date"],
            last_assessed=participant["last_assessed"],
        )
        yield EndpointRow(
            **common,
            event=result.event,
            event_date=result.date if result.event else None,
            censor_date=None if result.event else result.date,
            days=result.days,
            levels=result.levels,
            location=result.location,
            censor_reason=result.censor_reason,
        )


def study_endpoint(
    *, study: Study, data_cut: datetime.date, sites: Iterable[Site] | None = None
) -> Iterator[EndpointRow]:
    """Every participant's endpoint at `data_cut`, in study ID order (at these sites of the study, or all).

    Two queries whatever the number of participants (the final cases, then the participants read in batches
    of BATCH on one cursor), plus the current protocol version if `study` was read without it. 409 when the
    protocol declares no endpoint, raised here, before any row is read."""
    settings = endpoint_settings(study=study)
    sites = Site.objects.filter(study=study) if sites is None else sites
    fractures = endpoint_fractures(AdjudicationCase.objects.filter(site__in=sites))
    participants = endpoint_participants(
        settings=settings, data_cut=data_cut, participants=Participant.objects.filter(site__in=sites)
    )
    return endpoint_rows(
        settings=settings,
        data_cut=data_cut,
        participants=participants.iterator(chunk_size=BATCH),
        fractures=fractures,
    )
