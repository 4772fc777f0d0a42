"""reports.dataset and the data cut: captured as at its time, once, reproducibly, with no identifying data,
in a fixed number of queries; the figures drawn from it agree with the database counted directly."""

import datetime
import gzip
import hashlib

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crf.demo import crf_seed
from followup.demo import followup_seed
from followup.models import Visit, VisitState
from followup.services.visits import visit_miss
from reports.dataset import dataset_capture, dataset_load
from reports.figures import figures_compute
from reports.interim import data_cut_get_or_capture
from reports.models import DataCut
from trial.demo import demo_seed
from trial.models import Participant, ParticipantIdentity, Role, Screening, StaffRole, Study
from trial.services.enrollment import participant_set_status
from trial.services.screening import screening_create

from ..conftest import ELIGIBLE_ANSWERS, frozen_clock

TODAY = datetime.date(2026, 11, 21)
CUT = datetime.datetime(2026, 11, 21, 2, 0, tzinfo=datetime.UTC)  # 10:00 at the sites (Asia/Shanghai)

pytestmark = pytest.mark.django_db


def seed(study, participants: int, *, add: bool = False) -> None:
    demo_seed(study=study, participants=participants, seed=5, add=add, end=TODAY - datetime.timedelta(days=1))
    crf_seed(study=study, seed=5, today=TODAY, workers=0)
    followup_seed(study=study, seed=5, today=TODAY)


@pytest.fixture
def seeded(study):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 40)
    study.refresh_from_db()
    return study


def test_the_same_cut_gives_the_same_bytes_even_after_later_changes(seeded):
    first = dataset_capture(study=seeded, cut_at=CUT)
    assert hashlib.sha256(first.content).hexdigest() == first.sha256
    # Data recorded after the cut (a new screening an hour later) is not part of it: read again, same bytes.
    with time_machine.travel(CUT + datetime.timedelta(hours=1), tick=False):
        role = (
            StaffRole.objects.filter(study=seeded, role=Role.COORDINATOR)
            .select_related("site", "user")
            .first()
        )
        screening_create(
            actor=role.user,
            study=seeded,
            site=role.site,
            data={
                "screening_date": TODAY,
                "age": 72,
                "sex": "female",
                "fracture_levels": ["L1"],
                "answers": ELIGIBLE_ANSWERS,
            },
        )
    again = dataset_capture(study=seeded, cut_at=CUT)
    assert again.content == first.content
    later = dataset_capture(study=seeded, cut_at=CUT + datetime.timedelta(hours=2))
    assert later.sha256 != first.sha256
    assert len(later.dataset["screenings"]) == len(first.dataset["screenings"]) + 1


def test_a_cut_is_stored_once_and_reused(seeded):
    with frozen_clock("2026-11-21 11:00"):
        stored, dataset = data_cut_get_or_capture(study=seeded, cut_at=CUT)
        reused, reused_dataset = data_cut_get_or_capture(study=seeded, cut_at=CUT)
    assert reused.pk == stored.pk and reused_dataset == dataset
    assert DataCut.objects.filter(study=seeded).count() == 1
    # The stored bytes are the hashed ones.
    assert hashlib.sha256(gzip.decompress(bytes(stored.content))).hexdigest() == stored.sha256
    assert dataset_load(bytes(stored.content)) == dataset
    assert stored.protocol_version == seeded.current_version.label


def test_no_identifying_data_in_the_dataset(seeded):
    content = dataset_capture(study=seeded, cut_at=CUT).content.decode()
    identities = ParticipantIdentity.objects.filter(participant__site__study=seeded)
    assert identities.count() == 40
    for identity in identities:
        for value in (
            identity.full_name,
            identity.phone,
            identity.national_id,
            identity.hospital_record_number,
        ):
            if value:
                assert value not in content


def test_the_flow_agrees_with_the_database_counted_directly(seeded):
    captured = dataset_capture(study=seeded, cut_at=CUT)
    figures = figures_compute(
        captured.dataset, sha256=captured.sha256, generated_by="t", generated_at=CUT
    )  # fmt: skip
    flow, enrollment = figures["flow"], figures["enrollment"]
    screenings = Screening.objects.filter(study=seeded)
    participants = Participant.objects.filter(site__study=seeded)
    assert flow["screened"] == screenings.count() == enrollment["total"]["screened"]
    assert flow["enrolled"] == participants.count() == 40 == enrollment["total"]["enrolled"]
    assert flow["ineligible"]["n"] == screenings.filter(outcome="ineligible", participant=None).count()
    assert flow["incomplete"] == screenings.filter(outcome="incomplete", participant=None).count()
    assert flow["not_enrolled"]["n"] == screenings.filter(outcome="eligible", participant=None).count()
    for code, status in (("withdrawn", "withdrawn"), ("lost", "lost_to_follow_up"), ("died", "died")):
        left = {reason["code"]: reason["n"] for reason in flow["left"]["reasons"]}[code]
        assert left <= participants.filter(status=status).count()  # some left after the horizon
    assert sum(month["enrolled"] for month in enrollment["monthly"]) == 40
    assert figures["baseline"]["n"] == 40


def test_capture_runs_a_fixed_number_of_queries(study):
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 20)
    with CaptureQueriesContext(connection) as small:
        dataset_capture(study=Study.objects.select_related("current_version").get(pk=study.pk), cut_at=CUT)
    with frozen_clock("2026-11-21 09:00"):
        seed(study, 40, add=True)
    with CaptureQueriesContext(connection) as large:
        captured = dataset_capture(
            study=Study.objects.select_related("current_version").get(pk=study.pk), cut_at=CUT
        )
    assert len(captured.dataset["participants"]["rows"]) == 60
    assert len(large.captured_queries) == len(small.captured_queries) <= 20


def test_changes_after_the_cut_leave_the_cut_as_it_was(seeded):
    """A withdrawal (its visits made not applicable), a visit marked missed and a form signed, all after
    the cut: the cut read again is the same bytes."""
    first = dataset_capture(study=seeded, cut_at=CUT)
    role = (
        StaffRole.objects.filter(study=seeded, role=Role.COORDINATOR).select_related("site", "user").first()
    )
    followed = Participant.objects.filter(site=role.site, status="enrolled").order_by("study_id")
    pending = Visit.objects.filter(participant__in=followed, state=VisitState.PENDING).order_by("pk")
    missed_visit = pending.first()
    leaving = (
        followed.exclude(pk=missed_visit.participant_id).filter(visits__state=VisitState.PENDING).first()
    )
    # The next day. (A status is judged by its date: one recorded after the cut but dated on or before it
    # is read as recorded; reports/README.md.)
    with time_machine.travel(CUT + datetime.timedelta(days=1, hours=3), tick=False):
        visit_miss(actor=role.user, visit=missed_visit, reason="no answer by phone")
        participant_set_status(
            actor=role.user,
            participant=leaving,
            status="withdrawn",
            date=TODAY + datetime.timedelta(days=1),
            reason="moved away",
        )
    assert Visit.objects.filter(participant=leaving, state=VisitState.NOT_APPLICABLE).exists()
    again = dataset_capture(study=seeded, cut_at=CUT)
    assert again.content == first.content
    later = dataset_capture(study=seeded, cut_at=CUT + datetime.timedelta(days=2))
    statuses = {row[0]: row[3] for row in later.dataset["participants"]["rows"]}  # study_id -> status
    assert statuses[leaving.study_id] == "withdrawn"
