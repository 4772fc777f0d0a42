"""questionnaire_save and the selectors: drafts, submission, corrections with a reason, concurrency, roles,
closed visits and withdrawn participants; change from baseline with MCID per participant."""

import datetime
from decimal import Decimal

import pytest

from followup.models import QuestionnaireResponse, VisitState
from followup.selectors.questionnaires import participant_questionnaires, questionnaire_changes
from followup.services.questionnaires import questionnaire_get_or_start
from trial.clock import site_today
from trial.errors import Conflict, Forbidden, InvalidInput, PreconditionRequired, ReasonRequired
from trial.models import Participant, Role
from trial.selectors import history_for

from . import questionnaire_helpers as helpers
from .questionnaire_helpers import make_visit, odi_answers, save, submit

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

participant, visits = helpers.participant, helpers.visits  # the fixtures, under their names


def test_a_partial_draft_then_a_submission_scores_on_every_save(coordinator, participant, visits):
    draft = save(coordinator, participant, visits["V0"], "odi", [2, 2, None, None, None, 2, 2, 2, 2, 2])
    assert (draft.status, draft.version, draft.answered, draft.score, draft.band) == ("draft", 1, 7, None, "")
    assert draft.entered_by == coordinator and draft.instrument_version == "2.1a"
    assert draft.submitted_at is None and draft.completed_on is None

    final = submit(coordinator, participant, visits["V0"], "odi", odi_answers(16), expected_version=1)
    assert (final.status, final.version, final.score, final.band, final.answered) == (
        "final",
        2,
        Decimal("32.0"),
        "moderate",
        10,
    )
    assert final.submitted_at is not None
    assert final.completed_on == site_today(participant.site)
    stored = QuestionnaireResponse.objects.get()
    assert stored.score == Decimal("32.0") and stored.source == "interview"


def test_multi_ticks_are_stored_raw_and_the_highest_counts(coordinator, participant, visits):
    answers = [[2, 4], 0, 0, 0, 0, 0, 0, 0, 0, None]
    response = submit(coordinator, participant, visits["V0"], "odi", answers)
    response.refresh_from_db()
    assert response.answers == answers
    assert (response.score, response.answered) == (Decimal("8.9"), 9)  # 4 of 45


def test_submission_with_two_sections_missing_keeps_the_answers_without_a_score(
    coordinator, participant, visits
):
    response = submit(coordinator, participant, visits["V0"], "odi", odi_answers(16, missing=2))
    assert (response.status, response.score, response.band, response.answered) == ("final", None, "", 8)


def test_a_blank_questionnaire_cannot_be_submitted(coordinator, participant, visits):
    with pytest.raises(InvalidInput) as refused:
        submit(coordinator, participant, visits["V0"], "odi", [None] * 10)
    assert "answers" in refused.value.field_errors
    with pytest.raises(InvalidInput):
        submit(coordinator, participant, visits["V0"], "vas", {"pain": None})
    assert not QuestionnaireResponse.objects.exists()


def test_vas_is_stored_as_integer_millimetres(coordinator, participant, visits):
    response = submit(coordinator, participant, visits["V1"], "vas", {"pain": 87})
    response.refresh_from_db()
    assert response.answers == {"pain": 87}
    assert (response.score, response.band, response.answered) == (Decimal("87.0"), "", 1)


def test_answers_to_the_wrong_questionnaire(coordinator, participant, visits, make_participant):
    with pytest.raises(InvalidInput) as refused:
        save(coordinator, participant, visits["V1"], "odi", odi_answers(16))  # V1 collects the VAS only
    assert "wrong questionnaire" in refused.value.message
    assert "instrument" in refused.value.field_errors
    with pytest.raises(InvalidInput) as refused:
        save(coordinator, participant, visits["V0"], "odi", {"pain": 40})  # VAS answers sent as the ODI
    assert "answers" in refused.value.field_errors
    with pytest.raises(InvalidInput) as refused:
        save(coordinator, participant, visits["V0"], "sf36", [1])
    assert "instrument" in refused.value.field_errors
    someone_else = make_participant(levels=("L2",))
    with pytest.raises(InvalidInput) as refused:
        save(coordinator, someone_else, visits["V0"], "odi", odi_answers(16))
    assert "visit" in refused.value.field_errors
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize(
    ("instrument", "answers", "field"),
    [
        ("odi", [0, 0, 0, 6, 0, 0, 0, 0, 0, 0], "answers[3]"),
        ("odi", [0, 0, 0, 0, 0, 0, 0, 0, 0, True], "answers[9]"),
        ("odi", [0] * 9, "answers"),
        ("vas", {"pain": 101}, "answers.pain"),
        ("vas", {"pain": "50"}, "answers.pain"),
        ("vas", {"pain": 50.5}, "answers.pain"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(
    coordinator, participant, visits, instrument, answers, field
):
    with pytest.raises(InvalidInput) as refused:
        save(coordinator, participant, visits["V0"], instrument, answers)
    assert field in refused.value.field_errors
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"source": "telepathy"}, "source"),
        ({"language": "fr"}, "language"),
        ({"completed_on": datetime.date(2099, 1, 1)}, "completed_on"),
        ({"completed_on": datetime.date(2025, 12, 31)}, "completed_on"),  # before consent (2026-01-06)
        ({"completed_on": "2026-02-01"}, "completed_on"),
    ],
)
def test_bad_source_language_and_dates(coordinator, participant, visits, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        submit(coordinator, participant, visits["V0"], "vas", {"pain": 40}, **kwargs)
    assert field in refused.value.field_errors


def test_a_given_date_is_kept(coordinator, participant, visits):
    day = datetime.date(2026, 1, 7)
    response = submit(
        coordinator, participant, visits["V0"], "vas", {"pain": 40}, source="paper", completed_on=day
    )
    assert (response.completed_on, response.source) == (day, "paper")


def test_optimistic_concurrency(coordinator, participant, visits):
    save(coordinator, participant, visits["V0"], "vas", {"pain": 40})
    with pytest.raises(PreconditionRequired):
        save(coordinator, participant, visits["V0"], "vas", {"pain": 41})
    save(coordinator, participant, visits["V0"], "vas", {"pain": 42}, expected_version=1)
    with pytest.raises(Conflict) as stale:
        save(coordinator, participant, visits["V0"], "vas", {"pain": 43}, expected_version=1)
    assert stale.value.code == "stale_version"
    assert QuestionnaireResponse.objects.get().answers == {"pain": 42}
    with pytest.raises(Conflict):  # a first save naming a version that does not exist
        save(coordinator, participant, visits["V3"], "vas", {"pain": 43}, expected_version=3)


def test_correcting_a_submitted_response_needs_a_reason_and_is_audited(
    make_user, study, site, participant, visits
):
    investigator = make_user("inv07", role=Role.INVESTIGATOR, site=site)
    patient_answers = submit(None, participant, visits["V0"], "odi", odi_answers(26), expected_version=None)
    assert patient_answers.entered_by is None and patient_answers.source == "patient"
    with pytest.raises(ReasonRequired):
        save(
            investigator,
            participant,
            visits["V0"],
            "odi",
            odi_answers(25),
            source="patient",
            expected_version=1,
        )
    # Sending back exactly what is stored changes nothing and needs no reason.
    same = save(
        investigator, participant, visits["V0"], "odi", odi_answers(26), source="patient", expected_version=1
    )
    assert same.version == 1
    corrected = save(
        investigator,
        participant,
        visits["V0"],
        "odi",
        odi_answers(25),
        source="paper",
        expected_version=1,
        reason="Transcription error on section 10",
    )
    assert (corrected.status, corrected.version, corrected.score) == ("final", 2, Decimal("50.0"))
    assert corrected.source == "patient"  # attributable: a correction never relabels where answers came from
    assert corrected.entered_by is None  # the patient entered it; the corrector is in the audit trail
    last = history_for(corrected)[-1]
    assert (last["user"], last["reason"]) == ("inv07", "Transcription error on section 10")
    assert {"field": "score", "old": 52.0, "new": 50.0} in last["changes"]


def test_a_patient_cannot_change_a_submitted_response(coordinator, participant, visits):
    submit(coordinator, participant, visits["V0"], "vas", {"pain": 40})
    with pytest.raises(Conflict) as refused:
        save(None, participant, visits["V0"], "vas", {"pain": 10}, expected_version=1)
    assert refused.value.code == "final"


def test_a_patient_answers_only_as_the_patient(participant, visits):
    with pytest.raises(InvalidInput) as refused:
        save(None, participant, visits["V0"], "vas", {"pain": 10}, source="interview")
    assert "source" in refused.value.field_errors
    draft = save(None, participant, visits["V0"], "vas", {"pain": 10})
    assert (draft.entered_by, draft.source) == (None, "patient")


def test_roles_at_the_site(participant, visits, monitor, other_coordinator, make_user, site):
    with pytest.raises(Forbidden):
        save(monitor, participant, visits["V0"], "vas", {"pain": 40})
    with pytest.raises(Forbidden):
        save(other_coordinator, participant, visits["V0"], "vas", {"pain": 40})
    adjudicator = make_user("adj", role=Role.ADJUDICATOR, site=site)
    with pytest.raises(Forbidden):
        save(adjudicator, participant, visits["V0"], "vas", {"pain": 40})
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize("state", [VisitState.MISSED, VisitState.NOT_APPLICABLE])
def test_closed_visits_take_no_new_answers_but_submitted_ones_stay_correctable(
    coordinator, participant, visits, state
):
    submit(coordinator, participant, visits["V0"], "vas", {"pain": 40})
    save(coordinator, participant, visits["V0"], "odi", odi_answers(10))  # a draft
    visits["V0"].__class__.objects.filter(pk=visits["V0"].pk).update(state=state)
    with pytest.raises(Conflict) as refused:
        save(coordinator, participant, visits["V0"], "odi", odi_answers(11), expected_version=1)
    assert refused.value.code == "visit_closed"
    corrected = save(
        coordinator,
        participant,
        visits["V0"],
        "vas",
        {"pain": 45},
        expected_version=1,
        reason="Misread the mark",
    )
    assert corrected.score == Decimal("45.0")


def test_withdrawal_stops_new_responses_only(coordinator, participant, visits):
    submit(coordinator, participant, visits["V0"], "vas", {"pain": 40})
    Participant.objects.filter(pk=participant.pk).update(status="withdrawn")
    with pytest.raises(Conflict) as refused:
        save(coordinator, participant, visits["V3"], "vas", {"pain": 20})
    assert refused.value.code == "withdrawn"
    with pytest.raises(Conflict):  # nor through a patient link
        save(None, participant, visits["V0"], "vas", {"pain": 20}, expected_version=1)
    corrected = save(
        coordinator,
        participant,
        visits["V0"],
        "vas",
        {"pain": 41},
        expected_version=1,
        reason="Data entry error",
    )
    assert corrected.version == 2


def test_get_or_start_makes_one_blank_draft(coordinator, participant, visits):
    started, created = questionnaire_get_or_start(
        actor=coordinator, participant=participant, visit=visits["V0"], instrument="odi", language="en"
    )
    assert created and started.answers == [None] * 10 and started.entered_by is None
    assert (started.status, started.version, started.source) == ("draft", 1, "patient")
    again, created = questionnaire_get_or_start(
        actor=coordinator, participant=participant, visit=visits["V0"], instrument="odi", language="en"
    )
    assert (again.pk, created) == (started.pk, False)
    answered = save(None, participant, visits["V0"], "odi", odi_answers(16), submit=True, expected_version=1)
    assert (answered.pk, answered.status, answered.version) == (started.pk, "final", 2)
    with pytest.raises(InvalidInput):
        questionnaire_get_or_start(
            actor=coordinator, participant=participant, visit=visits["V1"], instrument="odi", language="en"
        )


# --- selectors ---------------------------------------------------------------------------------------------


def test_participant_questionnaires_is_one_query(coordinator, participant, visits, django_assert_num_queries):
    submit(coordinator, participant, visits["V3"], "vas", {"pain": 30})
    submit(coordinator, participant, visits["V0"], "odi", odi_answers(16))
    save(coordinator, participant, visits["V0"], "vas", {"pain": None})
    with django_assert_num_queries(1):
        rows = [
            (r.visit.code, r.instrument, r.entered_by.username)
            for r in participant_questionnaires(participant)
        ]
    assert rows == [("V0", "odi", "coord07"), ("V0", "vas", "coord07"), ("V3", "vas", "coord07")]


def test_change_from_baseline_and_mcid_per_participant(
    coordinator, participant, visits, django_assert_num_queries
):
    submit(coordinator, participant, visits["V0"], "odi", odi_answers(26))  # 52.0
    submit(coordinator, participant, visits["V3"], "odi", odi_answers(20))  # 40.0: improved by 12
    submit(coordinator, participant, visits["V12"], "odi", odi_answers(22))  # 44.0: improved by 8
    submit(coordinator, participant, visits["V0"], "vas", {"pain": 87})
    submit(coordinator, participant, visits["V1"], "vas", {"pain": 25})
    save(coordinator, participant, visits["V3"], "vas", {"pain": 5})  # a draft counts for nothing
    responses = list(participant_questionnaires(participant))
    with django_assert_num_queries(1):
        changes = {c["instrument"]: c for c in questionnaire_changes(participant, responses=responses)}

    odi = changes["odi"]
    assert odi["baseline"]["visit"] == "V0" and odi["baseline"]["score"] == Decimal("52.0")
    assert [(f["visit"], f["improvement"], f["mcid"], f["mcid_relative"]) for f in odi["followups"]] == [
        ("V3", Decimal("12.0"), True, False),
        ("V12", Decimal("8.0"), False, False),
    ]
    assert odi["followups"][0]["change"] == Decimal("-12.0")
    assert odi["followups"][0]["relative_improvement"] == Decimal("23.1")
    vas = changes["vas"]
    assert vas["baseline"]["score"] == Decimal("87.0")
    assert [(f["visit"], f["improvement"], f["mcid"], f["mcid_relative"]) for f in vas["followups"]] == [
        ("V1", Decimal("62.0"), True, True),
    ]


def test_the_baseline_is_the_first_scheduled_visit_that_lists_the_instrument(coordinator, participant):
    # The first visit collects only the VAS: the ODI's baseline is the second one, whatever their codes.
    first = make_visit(participant, "PRE", 1, questionnaires=["vas"])
    second = make_visit(participant, "POST", 2, day=30, questionnaires=["odi", "vas"])
    third = make_visit(participant, "LATE", 3, day=90, questionnaires=["odi"])
    submit(coordinator, participant, first, "vas", {"pain": 60})
    submit(coordinator, participant, second, "vas", {"pain": 50})
    submit(coordinator, participant, second, "odi", odi_answers(30))
    submit(coordinator, participant, third, "odi", odi_answers(20))
    changes = {c["instrument"]: c for c in questionnaire_changes(participant)}
    assert changes["odi"]["baseline"]["visit"] == "POST"
    assert changes["odi"]["followups"][0]["improvement"] == Decimal("20.0")
    assert changes["vas"]["baseline"]["visit"] == "PRE"
    assert changes["vas"]["followups"][0]["mcid"] is False  # 10 mm
    assert changes["vas"]["followups"][0]["mcid_relative"] is False  # 16.7 %


def test_without_a_baseline_score_changes_are_unknown(coordinator, participant, visits):
    submit(coordinator, participant, visits["V0"], "odi", odi_answers(16, missing=2))  # no score
    submit(coordinator, participant, visits["V3"], "odi", odi_answers(10))
    submit(coordinator, participant, visits["V3"], "vas", {"pain": 20})  # no VAS at baseline at all
    changes = {c["instrument"]: c for c in questionnaire_changes(participant)}
    assert changes["odi"]["baseline"]["score"] is None
    assert changes["odi"]["followups"][0]["change"] is None and changes["odi"]["followups"][0]["mcid"] is None
    assert changes["vas"]["baseline"] is None
    assert changes["vas"]["followups"][0]["visit"] == "V3" and changes["vas"]["followups"][0]["mcid"] is None


def test_staff_cannot_enter_answers_as_the_patient(coordinator, participant, visits):
    with pytest.raises(InvalidInput) as refused:
        save(coordinator, participant, visits["V0"], "vas", {"pain": 40}, source="patient")
    assert "source" in refused.value.field_errors
    assert not QuestionnaireResponse.objects.filter(participant=participant, instrument="vas").exists()
