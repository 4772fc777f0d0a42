"""The follow-up MRI's queries (naming the visit; fixed query counts of the list and of a save) and its pages:
both languages, entry through the page, a query raised and answered there, and no access for adjudicators."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crf.models import DataQuery, FormStatus
from trial.models import Role

from ..conftest import client_for
from ..crf.conftest import PROCEDURE, put
from .mri_helpers import (  # noqa: F401 -- fixtures
    MRI,
    fixture_clients,
    fixture_m12,
    fixture_participant,
    fixture_staff,
    fixture_treated,
    logged_in,
    make_visit,
    mri_record,
    mri_url,
    put_mri,
)

# The services judge this module's fixed dates (enrollment, procedure, MRI dates up to 2026-09-01) against the
# site's today: the clock is stopped at FROZEN_AT (tests/conftest.py), after every one of them, so the tests
# mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


# --- queries ----------------------------------------------------------------------------------------------


def test_queries_on_a_visit_form_name_the_visit(clients, participant, m12, treated):
    put_mri(clients["coordinator"], participant, MRI)
    body = {"study_id": participant.study_id, "form": "followup_mri", "field": "exam_date", "text": "Date?"}
    assert clients["monitor"].post("/api/v1/queries/", body, format="json").status_code == 400  # no visit
    assert (
        clients["monitor"].post("/api/v1/queries/", body | {"visit": "M9"}, format="json").status_code == 400
    )
    raised = clients["monitor"].post("/api/v1/queries/", body | {"visit": "M12"}, format="json")
    assert raised.status_code == 201 and raised.json()["visit"] == "M12"
    listed = clients["monitor"].get("/api/v1/queries/", {"visit": "M12"}).json()
    # The monitor's, and the automatic "scan missing" of an M12 MRI saved with no exam linked.
    assert [(q["visit"], q["check_code"]) for q in listed["results"]] == [
        ("M12", ""),
        ("M12", "FOLLOWUP_MRI_SCAN_MISSING"),
    ]


def test_the_query_list_shows_visit_codes_in_a_fixed_number_of_queries(
    clients,
    staff,
    participant,
    make_participant,
):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})  # one automatic query

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert clients["monitor"].get("/api/v1/queries/").status_code == 200
            page = logged_in(staff["monitor"]).get("/queries/")
            assert page.status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(3):
        other = make_participant()
        make_visit(other)
        put(clients["coordinator"], other, PROCEDURE)
        put_mri(
            clients["coordinator"],
            other,
            MRI | {"levels": [MRI["levels"][0], {"level": "L1", "new_fracture": True}]},
        )
    # Each MRI: a new fracture at a treated level, and no exam linked (scan missing).
    assert DataQuery.objects.exclude(record__visit_code="").count() == 6
    assert count() == few
    html = logged_in(staff["monitor"]).get("/queries/").content.decode()
    assert 'data-role="visit"' in html and "/visits/M12/forms/followup_mri/#q-" in html


def test_saving_the_mri_runs_a_fixed_number_of_queries(clients, participant, make_participant):
    def count(target, data, version=None) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert put_mri(clients["coordinator"], target, data, version=version).status_code == 200
        return len(ctx.captured_queries)

    put(clients["coordinator"], participant, PROCEDURE)
    make_visit(participant)
    one_each = [
        MRI["levels"][0],
        {"level": "L1", "new_fracture": True, "acute_signal": True, "genant_grade": "1"},
    ]
    small = count(participant, MRI | {"levels": one_each})  # one case, one warning
    other = make_participant()
    put(clients["coordinator"], other, PROCEDURE)
    make_visit(other)
    many = [
        {"level": level, "new_fracture": True, "acute_signal": True, "genant_grade": "1"}
        for level in ("T5", "T7", "T10", "L2", "L1", "L4")
    ]
    assert count(other, MRI | {"levels": many}) == small  # five cases and a warning: one insert each


# --- pages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Follow-up spine MRI", "12 months", "Position to the treated levels", "Adjacent", "Remote"]),
        ("zh-hans", ["随访脊柱MRI", "术后12个月", "与治疗节段的位置关系", "相邻节段", "远隔节段"]),
    ],
)
def test_the_mri_page_in_both_languages(clients, staff, participant, m12, treated, language, texts):
    put_mri(clients["coordinator"], participant, MRI)
    page = logged_in(staff["coordinator"], language).get(
        f"/participants/{participant.study_id}/visits/M12/forms/followup_mri/"
    )
    assert page.status_code == 200
    html = page.content.decode()
    for text in texts:
        assert text in html, text
    assert 'data-visit="M12"' in html
    assert f'href="/participants/{participant.study_id}/timeline/#visit-M12"' in html  # back to the follow-up
    assert f'action="/participants/{participant.study_id}/visits/M12/forms/followup_mri/complete/"' in html
    assert 'name="levels-0-relation"' not in html and 'name="levels-0-treated"' not in html  # never typed


def test_entering_the_mri_through_the_page(staff, participant, m12, treated):
    client = logged_in(staff["coordinator"])
    url = f"/participants/{participant.study_id}/visits/M12/forms/followup_mri/"
    post = {
        "version": "0",
        "exam_date": "2026-06-01",
        "field_strength": "1.5",
        "sequences": ["t1", "stir"],
        "any_new_fracture": "true",
        "levels-0-level": "T11",
        "levels-0-new_fracture": "true",
        "levels-0-acute_signal": "true",
        "levels-0-genant_grade": "1",
        "levels-1-level": "",
        "levels-1-new_fracture": "",
    }
    response = client.post(url, post)
    assert response.status_code == 302 and response["Location"] == url
    record = mri_record(participant)
    assert record.data["levels"] == [
        {
            "level": "T11",
            "new_fracture": True,
            "acute_signal": True,
            "genant_grade": "1",
            "treated": False,
            "relation": "adjacent",
        }
    ]
    page = client.get(url).content.decode()
    assert "Adjacent" in page and "Visit" in page
    done = client.post(url + "complete/", {"version": "1"})
    assert done.status_code == 302 and mri_record(participant).status == FormStatus.COMPLETE
    # A page of another participant's visit, or an unknown visit: 404.
    assert (
        client.get(f"/participants/{participant.study_id}/visits/M6/forms/followup_mri/").status_code == 404
    )


def test_raising_and_answering_a_query_on_the_mri_page(staff, clients, participant, m12, treated):
    put_mri(clients["coordinator"], participant, MRI)
    url = f"/participants/{participant.study_id}/visits/M12/forms/followup_mri/"
    raised = logged_in(staff["monitor"]).post(url + "queries/", {"field_path": "exam_date", "text": "Date?"})
    query = DataQuery.objects.get(auto=False)  # beside the automatic "scan missing"
    assert raised.status_code == 302 and raised["Location"] == f"{url}#q-{query.pk}"
    page = logged_in(staff["coordinator"]).get(url).content.decode()
    assert f'action="{url}queries/{query.pk}/"' in page
    answered = logged_in(staff["coordinator"]).post(
        f"{url}queries/{query.pk}/", {"action": "answer", "text": "From the report."}
    )
    assert answered.status_code == 302
    query.refresh_from_db()
    assert query.status == "answered"
    # The query is not reachable through the participant-level address of another form.
    wrong = logged_in(staff["coordinator"]).post(
        f"/participants/{participant.study_id}/forms/procedure/queries/{query.pk}/",
        {"action": "answer", "text": "x"},
    )
    assert wrong.status_code == 404


def test_an_adjudicator_cannot_open_the_mri(make_user, study, participant, m12, treated):
    adjudicator = make_user("adj", role=Role.ADJUDICATOR, study=study)
    assert client_for(adjudicator).get(mri_url(participant)).status_code == 404
