"""The analysis lock (reports/indextests/services.py, analysis_lock): who locks, the reason, the analysed
imports recorded, and everything frozen after (409); no unlock."""

import pghistory.models
import pytest
from django.db import DatabaseError, connection, transaction

from reports.indextests.services import heatmap_attach
from reports.models import AnalysisLock, ModelImport

from .conftest import api_for, csv_of, import_api
from .pictures import png

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def lock(user, study, reason="Index tests final for the analysis.", language="en"):
    return api_for(user, language).post(
        f"/api/v1/studies/{study.code}/analysis-lock/", {"reason": reason}, format="json"
    )


def test_the_lock_records_the_analysed_version_of_each_model(people, study, cases):
    dm = people["data_manager"]
    import_api(dm, study, csv_of(cases))
    import_api(dm, study, csv_of(cases, probabilities=(0.5, 0.5, 0.5)))  # VGG-16 v2
    import_api(dm, study, csv_of(cases, model="ViT"))
    answer = lock(people["pi"], study)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["locked"] and body["locked_by"] == "pi"
    assert [(a["model"], a["version"]) for a in body["analysed"]] == [("VGG-16", 2), ("ViT", 1)]
    assert api_for(people["monitor"]).get(f"/api/v1/studies/{study.code}/analysis-lock/").json() == body
    listed = api_for(dm).get(f"/api/v1/studies/{study.code}/model-imports/").json()["results"]
    assert [(m["model"], m["version"], m["analysed"]) for m in listed] == [
        ("VGG-16", 2, True), ("VGG-16", 1, False), ("ViT", 1, True),
    ]  # fmt: skip
    # Audited: who and why.
    event = pghistory.models.Events.objects.filter(pgh_model="reports.AnalysisLockEvent").get()
    assert event.pgh_context["reason"] == "Index tests final for the analysis."
    assert event.pgh_context["user"] == people["pi"].pk


def test_after_the_lock_imports_and_heatmaps_are_a_409(people, study, cases):
    dm = people["data_manager"]
    import_api(dm, study, csv_of(cases))
    assert lock(dm, study).status_code == 201
    answer = import_api(dm, study, csv_of(cases, model="ViT"))
    assert answer.status_code == 409
    assert answer.json()["code"] == "analysis_locked"
    assert "is locked: model outputs can no longer be imported or changed" in answer.json()["detail"]
    assert ModelImport.objects.count() == 1
    output = ModelImport.objects.get().outputs.first()
    from trial.errors import Conflict

    with pytest.raises(Conflict):
        heatmap_attach(output=output, actor=dm, content=png())
    output.refresh_from_db()
    assert not output.heatmap
    # No unlock: a second lock is a 409 too, and the lock row cannot be deleted.
    again = lock(dm, study)
    assert again.status_code == 409 and "cannot be unlocked" in again.json()["detail"]
    with pytest.raises(DatabaseError, match="pgtrigger"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM reports_analysislock")


def test_a_reason_is_required(people, study):
    answer = lock(people["data_manager"], study, reason="  ")
    assert answer.status_code == 400 and answer.json()["code"] == "reason_required"
    assert not AnalysisLock.objects.exists()


@pytest.mark.parametrize(
    ("who", "read", "write", "locks"),
    [
        ("data_manager", 200, 201, 201),
        ("pi", 200, 403, 201),
        ("monitor", 200, 403, 403),
        ("site_pi", 403, 403, 403),
        ("coordinator", 403, 403, 403),
        ("adjudicator", 404, 404, 404),
    ],
)
def test_who_reads_imports_and_locks(people, study, cases, who, read, write, locks):
    made = import_api(people["data_manager"], study, csv_of(cases)).json()["imports"][0]
    client = api_for(people[who])
    base = f"/api/v1/studies/{study.code}"
    assert client.get(f"{base}/model-imports/").status_code == read
    assert client.get(f"{base}/model-imports/{made['id']}/outputs/").status_code == read
    assert client.get(f"{base}/analysis-lock/").status_code == read
    answer = import_api(people[who], study, csv_of(cases, model="ViT"))
    assert answer.status_code == write
    if who == "adjudicator":
        # A blinded reader of the reference standard learns nothing: not even that a model exists.
        assert "VGG" not in answer.content.decode() and "model" not in answer.json()["detail"].lower()
    assert lock(people[who], study).status_code == locks


def test_a_reader_sees_the_rows_with_their_heatmap(people, study, cases):
    dm = people["data_manager"]
    made = import_api(dm, study, csv_of(cases)).json()["imports"][0]
    output = ModelImport.objects.get().outputs.get(level="L1")
    heatmap_attach(output=output, actor=dm, content=png())
    rows = api_for(people["monitor"]).get(made["outputs"]).json()["results"]
    assert [(r["study_id"], r["level"], r["probability"]) for r in rows] == [
        (cases[0].study_id, "T12", 0.9), (cases[0].study_id, "L1", 0.2), (cases[1].study_id, "L2", 0.6),
    ]  # fmt: skip
    assert [r["heatmap"] is not None for r in rows] == [False, True, False]
