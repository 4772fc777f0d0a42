"""odm_write: the whole file, written as it is read (see the package's docstring for the layout)."""

import datetime
import importlib.metadata
import uuid
from collections.abc import Callable
from typing import BinaryIO

from django.contrib.auth import get_user_model
from lxml import etree

from crf.engine.definitions import form_definitions
from trial.models import Site

from ..deid import Deidentifier
from .clinical import (
    Counts,
    Merged,
    Subject,
    actor_expression,
    event_rows,
    events_in_cut,
    participant_rows,
    signature_rows,
    signatures_in_force,
    subject_element,
    timestamp,
)
from .layout import Layout, layout_build
from .metadata import ODM_NS, admin_element, q, study_element

SOURCE_SYSTEM = "SpineTrial"
PROGRESS_EVERY = 500  # subjects between two progress calls: a few a second at most


def _version() -> str:
    try:
        return importlib.metadata.version("spinetrial")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _trail_summary(*, study, cut_at) -> tuple[set, set]:
    """The (visit code, form code) pairs of the records and the users who made their changes or signed
    them, as at the cut: what the metadata and AdminData must list before the data is written. Two grouped
    queries."""
    pairs, actors = set(), set()
    rows = (
        events_in_cut(study=study, cut_at=cut_at)
        .annotate(actor=actor_expression())
        .values_list("visit_code", "form_code", "actor")
        .distinct()
        .order_by()
    )
    for visit_code, form_code, actor in rows:
        pairs.add((visit_code, form_code))
        actors.add(actor)
    signers = signatures_in_force(study=study, cut_at=cut_at).values_list("signer_id", flat=True)
    actors.update(signers.distinct().order_by())
    return pairs, actors


def _users(ids: set) -> list[tuple]:
    """(id, username, full name) of each user in `ids`; an id whose user is gone keeps its OID, nameless."""
    known = {
        user.pk: (user.pk, user.get_username(), user.get_full_name())
        for user in get_user_model().objects.filter(pk__in=ids)
    }
    return [known.get(pk, (pk, "", "")) for pk in sorted(ids)]


def odm_write(
    *,
    study,
    out: BinaryIO,
    cut_at: datetime.datetime,
    deid: Deidentifier | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Write the study's CDISC ODM 1.3.2 Snapshot as at `cut_at` to `out` (binary, UTF-8 XML).

    Participants enrolled after the cut are left out; records are taken as they stood at the cut. With
    `deid`, subject keys are hashed, dates and times moved back by the participant's shift, free-text items
    and reasons for change left out. Reads only (call inside the caller's REPEATABLE READ transaction, so
    every query sees one snapshot); a fixed number of queries. `progress(n)` is called with the number of
    subjects written, every PROGRESS_EVERY and at the end.

    Returns the counts: {"subjects", "forms", "items", "audit_records", "signatures"}.
    """
    version = study.current_version
    sites = list(Site.objects.filter(study=study).order_by("code"))
    pairs, actors = _trail_summary(study=study, cut_at=cut_at)
    layout: Layout = layout_build(
        study_code=study.code,
        version_label=version.label,
        protocol=version.definition,
        definitions=form_definitions(),
        found=pairs,
    )
    effective = version.effective_date or version.loaded_at.date()
    counts = Counts()
    attributes = {
        "FileType": "Snapshot",
        "Granularity": "All",
        "FileOID": f"{SOURCE_SYSTEM}.{study.code}.{cut_at.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}"
        f".{uuid.uuid4().hex[:12]}",
        "CreationDateTime": timestamp(datetime.datetime.now(datetime.UTC)),
        "AsOfDateTime": timestamp(cut_at),
        "ODMVersion": "1.3.2",
        "SourceSystem": SOURCE_SYSTEM,
        "SourceSystemVersion": _version(),
        "Description": f"{study.code} as at {timestamp(cut_at)}"
        + (": de-identified (hashed subject keys, shifted dates, no free text)" if deid else ""),
    }
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(q("ODM"), attributes, nsmap={None: ODM_NS}):
            xf.write(study_element(layout=layout, study=study, version=version))
            xf.write(admin_element(layout=layout, users=_users(actors), sites=sites, effective=effective))
            with xf.element(
                q("ClinicalData"), {"StudyOID": layout.study_oid, "MetaDataVersionOID": layout.mdv_oid}
            ):
                salt = deid.salt if deid else None
                events = Merged(event_rows(study=study, cut_at=cut_at, salt=salt))
                signatures = Merged(signature_rows(study=study, cut_at=cut_at, salt=salt))
                for participant_id, study_id, site_code in participant_rows(
                    study=study, cut_at=cut_at, salt=salt
                ):
                    subject = _subject(study_id, site_code, deid, counts)
                    xf.write(
                        subject_element(
                            layout=layout,
                            subject=subject,
                            events=events.take(participant_id),
                            signatures=signatures.take(participant_id),
                        )
                    )
                    if progress and counts.subjects % PROGRESS_EVERY == 0:
                        xf.flush()
                        progress(counts.subjects)
    if progress:
        progress(counts.subjects)
    return counts.as_dict()


def _subject(study_id: str, site_code: str, deid: Deidentifier | None, counts: Counts) -> Subject:
    if deid is None:
        return Subject(key=study_id, site=site_code, counts=counts)
    return Subject(
        key=deid.study_id(study_id),
        site=site_code,
        shift=lambda day: deid.date(study_id, day),
        days=deid.shift_days(study_id),
        free_text=False,
        reasons=False,
        counts=counts,
    )
