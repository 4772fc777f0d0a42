"""The audit trail: every change recorded with user and reason, QuerySet.update too, append-only."""

import pytest
from django.apps import apps
from django.db import ProgrammingError, transaction
from pghistory.models import MiddlewareEvents

from trial.audit import audit_context
from trial.models import Screening
from trial.selectors import history_for

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen


def test_queryset_update_is_recorded(make_screening, coordinator):
    screening = make_screening()
    with audit_context(actor=coordinator, reason="bulk correction of notes"):
        Screening.objects.filter(pk=screening.pk).update(notes="bulk")
    last = history_for(screening)[-1]
    assert last["event"] == "update"
    assert last["reason"] == "bulk correction of notes"
    assert last["user"] == "coord07"
    assert {"field": "notes", "old": "", "new": "bulk"} in last["changes"]


@pytest.mark.django_db(transaction=True)  # its own transactions: no context left over from the fixture's
def test_raw_update_without_context_is_still_recorded(make_screening):
    screening = make_screening()
    Screening.objects.filter(pk=screening.pk).update(age=90)
    last = history_for(screening)[-1]
    assert last["user"] is None
    assert {"field": "age", "old": 72, "new": 90} in last["changes"]


def test_delete_is_recorded(study, make_user):
    from trial.models import StaffRole

    user = make_user("temp")
    role = StaffRole.objects.create(user=user, study=study, site=None, role="monitor")
    role_pk = role.pk
    role.delete()
    labels = list(
        MiddlewareEvents.objects.filter(pgh_obj_model="trial.StaffRole", pgh_obj_id=str(role_pk))
        .order_by("pgh_id")
        .values_list("pgh_label", flat=True)
    )
    assert labels == ["insert", "delete"]


def test_events_are_append_only(make_screening):
    screening = make_screening()
    model = apps.get_model("trial", "ScreeningEvent")
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        model.objects.filter(pgh_obj_id=screening.pk).update(age=1)
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        model.objects.filter(pgh_obj_id=screening.pk).delete()
    assert model.objects.filter(pgh_obj_id=screening.pk).count() == 1


def test_who_made_a_change_cannot_be_rewritten(make_screening, make_user):
    """A context's user is fixed once set (trial migration 0012): neither an UPDATE nor pghistory's upsert
    of the same context id can hand a recorded change to someone else; the reason may still be added."""
    from django.db import connection
    from pghistory.models import Context

    other = make_user("someone-else")
    screening = make_screening()
    event = apps.get_model("trial", "ScreeningEvent").objects.get(pgh_obj_id=screening.pk)
    context = event.pgh_context
    assert context.metadata["user"] != other.pk
    with pytest.raises(ProgrammingError, match="cannot change"), transaction.atomic():
        Context.objects.filter(pk=context.pk).update(metadata={**context.metadata, "user": other.pk})
    with (
        pytest.raises(ProgrammingError, match="cannot change"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("UPDATE pghistory_context SET metadata = metadata - 'user' WHERE id = %s", [context.pk])
    Context.objects.filter(pk=context.pk).update(metadata={**context.metadata, "reason": "added later"})
    context.refresh_from_db()
    assert context.metadata["user"] != other.pk and context.metadata["reason"] == "added later"


def test_api_request_attributes_user_and_reason(api, make_screening):
    screening = make_screening()
    api.patch(
        f"/api/v1/screenings/{screening.pk}/",
        {"notes": "seen"},
        format="json",
        HTTP_X_CHANGE_REASON="Source document verified",
    )
    event = history_for(screening)[-1]
    assert (event["user"], event["reason"]) == ("coord07", "Source document verified")


def test_chinese_reasons_arrive_intact(api, make_screening):
    """Headers reach Django decoded as Latin-1 (PEP 3333); both client spellings must give the same text."""
    screening = make_screening()
    url = f"/api/v1/screenings/{screening.pk}/"
    raw_utf8 = "核对原始病历".encode().decode("latin-1")  # what a WSGI server passes for curl's raw bytes
    api.patch(url, {"age": 73}, format="json", HTTP_X_CHANGE_REASON=raw_utf8)
    api.patch(
        url, {"age": 74}, format="json", HTTP_X_CHANGE_REASON="UTF-8''%E5%B9%B4%E9%BE%84%E6%9B%B4%E6%AD%A3"
    )
    api.patch(url, {"age": 75}, format="json", HTTP_X_CHANGE_REASON="50% of the form re-checked")
    reasons = [event["reason"] for event in history_for(screening)[1:]]
    assert reasons == ["核对原始病历", "年龄更正", "50% of the form re-checked"]
