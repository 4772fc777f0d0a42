"""Visit services and hooks on real PostgreSQL: visits appear from enrollment and the procedure form, move
with a corrected procedure date, follow the participant's status, and are recorded, missed, reopened or added
unscheduled under the rules. Time is frozen: 2026-03-01 12:00 at the Shanghai site unless said otherwise."""

import datetime

import pytest
import time_machine

from crf.models import FormRecord
from followup.models import QuestionnaireResponse, ResponseStatus, Visit, VisitKind, VisitState
from followup.services import visits as services
from trial.errors import Conflict, Forbidden, InvalidInput, ReasonRequired
from trial.models import ParticipantStatus, Role
from trial.selectors import history_for
from trial.services import participant_set_status

from .visit_helpers import at, change_procedure_date, complete_procedure

D = datetime.date


@pytest.fixture(autouse=True)
def frozen():
    with at("2026-03-01 12:00"):
        yield


@pytest.fixture
def participant(make_participant):
    return make_participant()  # consent 2026-01-06, enrolled 2026-01-07, site 07 (Asia/Shanghai)


@pytest.fixture
def followed(participant, coordinator):
    complete_procedure(coordinator, participant)  # procedure 2026-01-15
    return participant


def windows(participant) -> dict:
    return {
        v.code: (v.state, v.target_date, v.window_open, v.window_close)
        for v in Visit.objects.filter(participant=participant)
    }


def visit(participant, code) -> Visit:
    return Visit.objects.select_related("participant__site").get(participant=participant, code=code)


# --- hooks ------------------------------------------------------------------------------------------


def test_enrollment_creates_the_baseline_visit(participant):
    baseline = visit(participant, "BL")
    # BL: enrollment 2026-01-07 + 0 days, window 0 before / 7 after: 2026-01-07 .. 2026-01-14.
    assert (baseline.kind, baseline.anchor, baseline.day) == (VisitKind.SCHEDULED, "enrollment", 0)
    assert (baseline.target_date, baseline.window_open, baseline.window_close) == (
        D(2026, 1, 7),
        D(2026, 1, 7),
        D(2026, 1, 14),
    )
    assert baseline.questionnaires == ["odi", "vas"]
    assert list(Visit.objects.filter(participant=participant).values_list("code", flat=True)) == ["BL"]


def test_completing_the_procedure_form_creates_m1_to_m12(participant, coordinator):
    # A draft anchors nothing: the date may still change before the form is complete.
    from crf.services import crf_complete, crf_save

    from ..crf.conftest import PROCEDURE

    data = PROCEDURE | {"procedure_date": "2026-01-15"}
    crf_save(
        actor=coordinator, participant=participant, form_code="procedure", data=data, expected_version=None
    )
    assert set(windows(participant)) == {"BL"}

    record = crf_complete(actor=coordinator, participant=participant, form_code="procedure")
    # Procedure 2026-01-15 (worked by hand in test_schedule.py):
    # M1 2026-02-14 (02-07..02-21), M3 2026-04-16 (04-02..04-30), M6 2026-07-16 (06-16..08-15),
    # M12 2027-01-15 (2026-12-16..2027-02-14).
    pending = VisitState.PENDING
    assert windows(participant) == {
        "BL": (pending, D(2026, 1, 7), D(2026, 1, 7), D(2026, 1, 14)),
        "M1": (pending, D(2026, 2, 14), D(2026, 2, 7), D(2026, 2, 21)),
        "M3": (pending, D(2026, 4, 16), D(2026, 4, 2), D(2026, 4, 30)),
        "M6": (pending, D(2026, 7, 16), D(2026, 6, 16), D(2026, 8, 15)),
        "M12": (pending, D(2027, 1, 15), D(2026, 12, 16), D(2027, 2, 14)),
    }
    m12 = visit(participant, "M12")
    assert (m12.forms, m12.questionnaires, m12.updated_by) == (["followup_mri"], ["odi", "vas"], coordinator)

    # Idempotent: the hook again (a later save of the complete form) creates nothing new.
    services.visits_on_record(record=record, actor=coordinator)
    assert Visit.objects.filter(participant=participant).count() == 5


def test_correcting_the_procedure_date_moves_pending_visits_only(followed, coordinator):
    services.visit_complete(actor=coordinator, visit=visit(followed, "M1"), visit_date=D(2026, 2, 16))
    before = windows(followed)

    change_procedure_date(coordinator, followed, "2026-01-20")  # a completed form: needs a reason

    after = windows(followed)
    assert after["M1"] == before["M1"]  # completed: it happened when it happened
    assert after["BL"] == before["BL"]  # anchored at enrollment
    five = datetime.timedelta(days=5)
    for code in ("M3", "M6", "M12"):
        assert after[code] == (VisitState.PENDING, *(day + five for day in before[code][1:]))
    assert after["M3"][1] == D(2026, 4, 21)


def test_a_missed_visit_keeps_its_dates_too(followed, coordinator):
    services.visit_miss(
        actor=coordinator, visit=visit(followed, "M1"), reason="Patient in hospital elsewhere"
    )
    before = windows(followed)["M1"]
    change_procedure_date(coordinator, followed, "2026-01-10")
    assert windows(followed)["M1"] == before


def test_the_hook_is_cheap(followed, coordinator, django_assert_num_queries):
    draft = FormRecord(participant=followed, form_code="baseline", status="draft", data={})
    with django_assert_num_queries(0):
        services.visits_on_record(record=draft, actor=coordinator)
    other = FormRecord(participant=followed, form_code="dxa", status="complete", data={})
    with django_assert_num_queries(1):  # the protocol's schedule, to see that dxa anchors nothing
        services.visits_on_record(record=other, actor=coordinator)
    procedure = FormRecord.objects.get(participant=followed, form_code="procedure")
    with django_assert_num_queries(2):  # schedule + the existing visits (locked); nothing to write
        services.visits_on_record(record=procedure, actor=coordinator)


@pytest.mark.parametrize(
    ("status", "words"),
    [(ParticipantStatus.WITHDRAWN, "withdrew on 2026-02-20"), (ParticipantStatus.DIED, "died on 2026-02-20")],
)
def test_withdrawal_and_death_make_pending_visits_not_applicable(followed, coordinator, status, words):
    services.visit_complete(actor=coordinator, visit=visit(followed, "M1"), visit_date=D(2026, 2, 14))
    participant_set_status(
        actor=coordinator, participant=followed, status=status, date=D(2026, 2, 20), reason="Family decision"
    )
    states = {v.code: (v.state, v.reason) for v in Visit.objects.filter(participant=followed)}
    assert states.pop("M1") == (VisitState.COMPLETED, "")
    assert {code for code, (state, _) in states.items() if state != VisitState.NOT_APPLICABLE} == set()
    assert all(words in reason for _, reason in states.values())
    assert history_for(visit(followed, "M3"))[-1]["reason"] == "Family decision"


def test_lost_to_follow_up_leaves_visits_pending_and_reinstatement_changes_nothing(followed, coordinator):
    before = windows(followed)
    participant_set_status(
        actor=coordinator,
        participant=followed,
        status=ParticipantStatus.LOST_TO_FOLLOW_UP,
        date=D(2026, 2, 25),
        reason="No answer to five calls",
    )
    assert windows(followed) == before  # still pending: BL and M1 show as overdue
    followed.refresh_from_db()
    participant_set_status(
        actor=coordinator,
        participant=followed,
        status=ParticipantStatus.ENROLLED,
        date=D(2026, 2, 28),
        reason="Called back",
    )
    assert windows(followed) == before


def test_the_procedure_completed_after_withdrawal_creates_no_visits(participant, coordinator):
    from crf.services import crf_complete, crf_save

    from ..crf.conftest import PROCEDURE

    crf_save(
        actor=coordinator,
        participant=participant,
        form_code="procedure",
        data=PROCEDURE | {"procedure_date": "2026-01-15"},
        expected_version=None,
    )
    participant_set_status(
        actor=coordinator,
        participant=participant,
        status=ParticipantStatus.WITHDRAWN,
        date=D(2026, 1, 20),
        reason="Consent withdrawn",
    )
    crf_complete(actor=coordinator, participant=participant, form_code="procedure")
    assert windows(participant) == {
        "BL": (VisitState.NOT_APPLICABLE, D(2026, 1, 7), D(2026, 1, 7), D(2026, 1, 14))
    }


# --- recording visits -------------------------------------------------------------------------------------


def test_complete_records_the_date_and_the_audit_reason(followed, coordinator):
    m1 = services.visit_complete(
        actor=coordinator, visit=visit(followed, "M1"), visit_date=D(2026, 2, 25), reason="Came late"
    )
    # Outside the window (closed 02-21): accepted, the window stays as planned so the deviation shows.
    assert (m1.state, m1.visit_date, m1.window_close, m1.reason) == (
        VisitState.COMPLETED,
        D(2026, 2, 25),
        D(2026, 2, 21),
        "Came late",
    )
    event = history_for(m1)[-1]
    assert (event["user"], event["reason"]) == ("coord07", "Came late")


@pytest.mark.parametrize(
    ("code", "day", "message"),
    [
        ("M1", D(2026, 3, 2), "cannot be in the future"),  # site today is 2026-03-01
        ("M1", D(2026, 1, 14), "cannot be before the procedure date (2026-01-15)"),
        ("BL", D(2026, 1, 6), "cannot be before the enrollment date (2026-01-07)"),
        ("M1", "2026-02-14", "Give the date"),
    ],
)
def test_complete_refuses_impossible_dates(followed, coordinator, code, day, message):
    with pytest.raises(InvalidInput) as info:
        services.visit_complete(actor=coordinator, visit=visit(followed, code), visit_date=day)
    assert message in info.value.field_errors["visit_date"][0]
    assert visit(followed, code).state == VisitState.PENDING


def test_the_future_is_judged_at_the_site(followed, coordinator):
    # 2026-03-01 20:00 UTC is already 2026-03-02 04:00 in Shanghai: that date is today there, not the future.
    with at("2026-03-01 20:00", "UTC"):
        done = services.visit_complete(
            actor=coordinator, visit=visit(followed, "M1"), visit_date=D(2026, 3, 2)
        )
    assert done.visit_date == D(2026, 3, 2)


def test_miss_needs_a_reason_and_a_pending_visit(followed, coordinator):
    m1 = visit(followed, "M1")
    with pytest.raises(ReasonRequired):
        services.visit_miss(actor=coordinator, visit=m1, reason="  ")
    missed = services.visit_miss(actor=coordinator, visit=m1, reason="Could not travel")
    assert (missed.state, missed.reason) == (VisitState.MISSED, "Could not travel")
    with pytest.raises(Conflict):
        services.visit_miss(actor=coordinator, visit=m1, reason="again")
    with pytest.raises(Conflict):
        services.visit_complete(actor=coordinator, visit=m1, visit_date=D(2026, 2, 20))


def test_a_completed_visit_cannot_be_missed(followed, coordinator):
    m1 = services.visit_complete(actor=coordinator, visit=visit(followed, "M1"), visit_date=D(2026, 2, 14))
    with pytest.raises(Conflict) as info:
        services.visit_miss(actor=coordinator, visit=m1, reason="clicked the wrong row")
    assert info.value.code == "visit_completed"


def test_an_upcoming_visit_cannot_be_missed_yet(followed, coordinator):
    with pytest.raises(Conflict) as info:
        services.visit_miss(actor=coordinator, visit=visit(followed, "M3"), reason="Will be away")
    assert "2026-04-02" in info.value.message


def test_reopen_undoes_a_decision_with_a_reason(followed, coordinator):
    m1 = services.visit_complete(actor=coordinator, visit=visit(followed, "M1"), visit_date=D(2026, 2, 14))
    with pytest.raises(ReasonRequired):
        services.visit_reopen(actor=coordinator, visit=m1, reason="")
    reopened = services.visit_reopen(actor=coordinator, visit=m1, reason="Recorded on the wrong participant")
    assert (reopened.state, reopened.visit_date) == (VisitState.PENDING, None)
    assert history_for(reopened)[-1]["reason"] == "Recorded on the wrong participant"
    with pytest.raises(Conflict):  # pending: nothing to undo
        services.visit_reopen(actor=coordinator, visit=m1, reason="again")
    missed = services.visit_miss(actor=coordinator, visit=m1, reason="No show")
    assert services.visit_reopen(actor=coordinator, visit=missed, reason="Came after all").reason == ""


def test_visits_of_a_withdrawn_participant_are_final(followed, coordinator):
    m1 = services.visit_complete(actor=coordinator, visit=visit(followed, "M1"), visit_date=D(2026, 2, 14))
    participant_set_status(
        actor=coordinator,
        participant=followed,
        status=ParticipantStatus.WITHDRAWN,
        date=D(2026, 2, 20),
        reason="Consent withdrawn",
    )
    with pytest.raises(Conflict):
        services.visit_reopen(actor=coordinator, visit=m1, reason="mistake")
    with pytest.raises(Conflict):
        services.visit_complete(actor=coordinator, visit=visit(followed, "M3"), visit_date=D(2026, 2, 25))


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_committed_while_a_visit_is_reopened_keeps_it_final(monkeypatch, followed, coordinator):
    """Reopening reads the participant's status under their row lock: a withdrawal that commits meanwhile
    (it makes only pending visits not applicable) cannot leave a pending visit to a withdrawn participant."""
    from ..races import status_change_during

    m1 = services.visit_complete(actor=coordinator, visit=visit(followed, "M1"), visit_date=D(2026, 2, 14))
    race = status_change_during(
        monkeypatch,
        lambda: services.visit_reopen(actor=coordinator, visit=m1, reason="Recorded by mistake"),
        actor=coordinator,
        participant=followed,
        status=ParticipantStatus.WITHDRAWN,
        date=D(2026, 2, 20),
        reason="Consent withdrawn",
    )
    assert race.change_error is None
    assert isinstance(race.outcome, Conflict) and race.outcome.code == "participant_final", race.outcome
    assert race.waited  # it queued behind the withdrawal instead of reading a status about to change
    assert visit(followed, "M1").state == VisitState.COMPLETED
    assert not Visit.objects.filter(participant=followed, state=VisitState.PENDING).exists()


def test_only_site_staff_record_visits(followed, make_user, study, other_coordinator, monitor):
    m1 = visit(followed, "M1")
    pi = make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study)
    for outsider in (other_coordinator, monitor, pi):
        with pytest.raises(Forbidden):
            services.visit_complete(actor=outsider, visit=m1, visit_date=D(2026, 2, 14))
        with pytest.raises(Forbidden):
            services.visit_unscheduled_create(
                actor=outsider, participant=followed, visit_date=D(2026, 2, 14), reason="pain"
            )
    assert visit(followed, "M1").state == VisitState.PENDING


# --- unscheduled visits -------------------------------------------------------------------------------------


def test_unscheduled_visits_are_numbered_and_collect_the_protocol_s_unscheduled_items(followed, coordinator):
    first = services.visit_unscheduled_create(
        actor=coordinator, participant=followed, visit_date=D(2026, 2, 27), reason="New back pain"
    )
    second = services.visit_unscheduled_create(
        actor=coordinator, participant=followed, visit_date=D(2026, 3, 1), reason="Pain again"
    )
    assert (first.code, second.code) == ("U1", "U2")
    assert first.label == {"en": "Unscheduled visit 1", "zh-hans": "计划外随访 1"}
    assert (first.kind, first.state, first.visit_date, first.reason) == (
        VisitKind.UNSCHEDULED,
        VisitState.COMPLETED,
        D(2026, 2, 27),
        "New back pain",
    )
    assert first.target_date == first.window_open == first.window_close == D(2026, 2, 27)
    assert (first.forms, first.questionnaires) == (["followup_mri"], ["odi", "vas"])
    assert history_for(first)[-1]["reason"] == "New back pain"

    # Reopened and recorded again (a wrong date): an unscheduled visit is dated by its visit.
    services.visit_reopen(actor=coordinator, visit=first, reason="Wrong date")
    again = services.visit_complete(actor=coordinator, visit=first, visit_date=D(2026, 2, 26))
    assert (again.target_date, again.window_close, again.reason) == (
        D(2026, 2, 26),
        D(2026, 2, 26),
        "New back pain",
    )


@pytest.mark.parametrize(
    ("day", "reason", "error", "field"),
    [
        (D(2026, 2, 27), "", ReasonRequired, "reason"),
        (D(2026, 3, 2), "pain", InvalidInput, "visit_date"),
        (D(2026, 1, 6), "pain", InvalidInput, "visit_date"),
    ],
)
def test_unscheduled_visit_refusals(followed, coordinator, day, reason, error, field):
    with pytest.raises(error) as info:
        services.visit_unscheduled_create(
            actor=coordinator, participant=followed, visit_date=day, reason=reason
        )
    assert field in info.value.field_errors
    assert not Visit.objects.filter(participant=followed, kind=VisitKind.UNSCHEDULED).exists()


@pytest.mark.parametrize("status", [ParticipantStatus.WITHDRAWN, ParticipantStatus.DIED])
def test_no_unscheduled_visit_after_withdrawal_or_death(followed, coordinator, status):
    participant_set_status(
        actor=coordinator, participant=followed, status=status, date=D(2026, 2, 20), reason="recorded"
    )
    with pytest.raises(Conflict):
        services.visit_unscheduled_create(
            actor=coordinator, participant=followed, visit_date=D(2026, 2, 27), reason="New back pain"
        )


# --- another protocol: the seed-003 fixture (1 month, then every 3 months; a site in Paris) -----------------


def test_the_repeating_schedule_of_the_seed_003_fixture_end_to_end(make_user):
    from trial.models import Study
    from trial.services import participant_enroll, screening_create
    from trial.services.protocols import protocol_load

    from .visit_helpers import fixture_text

    protocol_load(text=fixture_text(), source_name="EURRADIOL2016.yaml")
    study = Study.objects.select_related("current_version").get(code="EURRADIOL2016")
    site = study.sites.get(code="GR")
    coordinator = make_user("coordGR", role=Role.COORDINATOR, study=study, site=site)
    screening = screening_create(
        actor=coordinator,
        study=study,
        site=site,
        data={
            "screening_date": D(2026, 1, 5),
            "age": 64,
            "sex": "male",
            "fracture_levels": ["L1"],
            "answers": {"INC1": True},
        },
    )
    participant = participant_enroll(
        actor=coordinator,
        screening=screening,
        consent_date=D(2026, 1, 6),
        enrollment_date=D(2026, 1, 7),
        identity={"full_name": "Synthetic Person"},
    )
    assert not Visit.objects.filter(participant=participant).exists()  # no enrollment-anchored visit here
    complete_procedure(coordinator, participant)  # 2026-01-15

    # Days 30, 121, 212, 303, 394, 485, 576, 667 after 2026-01-15, numbered by month: M1, M4 ... M22.
    planned = list(Visit.objects.filter(participant=participant).order_by("sequence"))
    assert [(v.code, v.day) for v in planned] == [
        ("M1", 30),
        ("M4", 121),
        ("M7", 212),
        ("M10", 303),
        ("M13", 394),
        ("M16", 485),
        ("M19", 576),
        ("M22", 667),
    ]
    m4 = planned[1]
    # 2026-01-15 + 121 = 2026-05-16 (+16 Jan 31, +28 Feb 28, +31 Mar 31, +30 Apr 30, +16), ± 14 days.
    assert (m4.target_date, m4.window_open, m4.window_close) == (
        D(2026, 5, 16),
        D(2026, 5, 2),
        D(2026, 5, 30),
    )
    assert (m4.label, m4.questionnaires) == ({"en": "4 months", "zh-hans": "术后4个月"}, ["vas"])
    unscheduled = services.visit_unscheduled_create(
        actor=coordinator, participant=participant, visit_date=D(2026, 2, 20), reason="New pain"
    )
    assert (unscheduled.forms, unscheduled.questionnaires) == ([], ["vas"])


def test_a_visit_with_collected_data_cannot_be_declared_missed(coordinator, make_participant):
    """Answers submitted at a visit mean it took place: missing it would hide data (409, nothing changed)."""
    participant = make_participant()
    baseline = participant.visits.get(code="BL")
    QuestionnaireResponse.objects.create(
        participant=participant,
        visit=baseline,
        instrument="vas",
        instrument_version="1.0",
        source="interview",
        answers={"pain": 70},
        score=70,
        answered=1,
        status=ResponseStatus.FINAL,
    )
    moment = datetime.datetime(2026, 1, 20, 10, tzinfo=datetime.UTC)  # BL's window closed on 01-14
    with time_machine.travel(moment, tick=False), pytest.raises(Conflict) as refused:
        services.visit_miss(actor=coordinator, visit=baseline, reason="did not come")
    assert refused.value.code == "visit_has_data"
    baseline.refresh_from_db()
    assert baseline.state == VisitState.PENDING
