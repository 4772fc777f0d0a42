"""CRF pages' scoping and refusals: adjudicators are blind to the forms, another site's coordinator gets 404s,
bad list filters are a 400 and hostile form input a page with errors, never a 500."""

import pytest

from crf import services
from crf.models import DataQuery, FormRecord

from ..factories import PASSWORD
from .conftest import PROCEDURE, put
from .page_helpers import logged_in, page_url, procedure_post

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


# --- site scoping ---------------------------------------------------------------------------------------


def test_adjudicators_are_blind_to_the_forms(make_user, study, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})
    adjudicator = logged_in(make_user("adj", role="adjudicator", study=study))
    assert adjudicator.get(page_url(participant)).status_code == 404
    assert adjudicator.get(f"/participants/{participant.study_id}/forms/").status_code == 404
    # the list of queries (participants' data) is not theirs to open: the permission matrix's 403
    queries = adjudicator.get("/queries/")
    assert queries.status_code == 403
    assert participant.study_id not in queries.content.decode()


def test_a_coordinator_of_another_site_gets_404(staff, clients, other_coordinator, participant):
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 200})
    query = DataQuery.objects.get()
    client = logged_in(other_coordinator)
    for url in (f"/participants/{participant.study_id}/forms/", page_url(participant)):
        assert client.get(url).status_code == 404
    for url, data in [
        (page_url(participant), procedure_post(1)),
        (page_url(participant, step="complete"), {"version": "1"}),
        (page_url(participant) + f"queries/{query.pk}/", {"action": "answer", "text": "?"}),
    ]:
        assert client.post(url, data).status_code == 404, url
    # a coordinator signs and raises queries nowhere: the permission matrix's 403 comes before the record is
    # looked up, the same for a participant of any site, and says only who may
    for url, data, who in [
        (
            page_url(participant, step="sign"),
            {"sign-meaning": "approval", "sign-password": PASSWORD},
            "investigator or principal investigator",
        ),
        (
            page_url(participant) + "queries/",
            {"field_path": "operator", "text": "?"},
            "monitor or data manager",
        ),
    ]:
        refused = client.post(url, data)
        assert refused.status_code == 403, url
        assert f"Only the {who} can do this." in refused.content.decode()
        assert "Dr Demo" not in refused.content.decode()  # nothing of the form
    assert "No queries match." in client.get("/queries/").content.decode()
    assert FormRecord.objects.get().version == 1


def test_bad_filters_and_pages_are_refused_never_errors(staff):
    """A 400 with the message and nothing listed (trial.views.common.list_page), never a 500; a page past
    the end is the last page."""
    client = logged_in(staff["monitor"])
    for query in (
        "?status=bogus",
        "?site=zz",
        "?form=nope",
        "?page=abc",
        "?study_id=" + "x" * 500,
    ):
        assert client.get("/queries/" + query).status_code == 400, query
    assert client.get("/queries/?page=999").status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"operative_time": "1e400"},
        {"operative_time": "NaN"},
        {"levels-0-cement_volume": "1e-400"},
        {"procedure_date": "2026-02-30"},
        {"operator": "Dr\x00Demo"},
        {"technique": "XYZ"},
        {"intraop_complications": ["none", "none"]},
        {"levels-0-level": "", "levels-0-leakage_type": ["B"]},
        {"levels-1-level": "L1"},  # two rows with the same level
        {"version": "garbage"},
    ],
)
def test_hostile_input_is_a_page_with_errors_never_a_500(staff, clients, participant, overrides):
    put(clients["coordinator"], participant, PROCEDURE)
    post = procedure_post(1) | overrides
    response = logged_in(staff["coordinator"]).post(page_url(participant), post)
    assert response.status_code in (400, 409)
    assert FormRecord.objects.get().version == 1


def test_a_reason_with_a_nul_character_is_refused(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    post = procedure_post(2, operator="Dr B", reason="typo\x00")
    assert logged_in(staff["coordinator"]).post(page_url(participant), post).status_code == 400
    assert FormRecord.objects.get().data["operator"] == "Dr Demo"
