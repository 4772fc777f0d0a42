"""A vertebra's Grad-CAM heatmap through the API (reports/indextests/apis.py, HeatmapView): attached by a data
manager from a multipart upload, read back by the study's readers, refused when it is not an image, after the
lock, and to everyone else."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reports.models import ModelImport

from .conftest import api_for, csv_of, import_api
from .pictures import jpeg_header, png
from .test_lock import lock

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def _url(output) -> str:
    return f"/api/v1/model-outputs/{output.pk}/heatmap/"


def _upload(user, output, content: bytes, name: str = "cam.png", field: str = "heatmap"):
    return api_for(user).post(_url(output), {field: SimpleUploadedFile(name, content)}, format="multipart")


@pytest.fixture
def output(people, study, cases):
    import_api(people["data_manager"], study, csv_of(cases))
    return ModelImport.objects.get().outputs.get(level="L1")


def test_a_data_manager_attaches_a_heatmap_and_a_reader_reads_it(people, output):
    image = png(6, 5)
    answer = _upload(people["data_manager"], output, image)
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["id"], body["level"], body["heatmap"]) == (
        output.pk, "L1", f"http://testserver{_url(output)}",
    )  # fmt: skip
    read = api_for(people["monitor"]).get(_url(output))
    assert read.status_code == 200 and read["Content-Type"] == "image/png"
    assert b"".join(read.streaming_content) == image
    assert read["Cache-Control"] == "private, no-store" and read["X-Content-Type-Options"] == "nosniff"
    # A JPEG replaces it.
    assert _upload(people["data_manager"], output, jpeg_header(), "cam.jpg").status_code == 200
    assert api_for(people["pi"]).get(_url(output))["Content-Type"] == "image/jpeg"


def test_bad_uploads_are_a_400_naming_the_field_and_nothing_is_saved(people, output):
    dm = people["data_manager"]
    answer = _upload(dm, output, b"GIF89a not a heatmap")
    assert answer.status_code == 400
    assert answer.json()["heatmap"] == ["Upload a PNG or JPEG image of at most 5 MB."]
    missing = api_for(dm).post(_url(output), {}, format="multipart")
    assert missing.status_code == 400 and "heatmap" in missing.json()
    stray = api_for(dm).post(
        _url(output), {"heatmap": SimpleUploadedFile("a.png", png()), "note": "x"}, format="multipart"
    )
    assert stray.status_code == 400 and stray.json()["note"] == ["Unknown field."]
    output.refresh_from_db()
    assert not output.heatmap
    assert api_for(dm).get(_url(output)).status_code == 404  # none attached


def test_after_the_lock_a_heatmap_is_a_409(people, study, output):
    assert lock(people["data_manager"], study).status_code == 201
    answer = _upload(people["data_manager"], output, png())
    assert answer.status_code == 409 and answer.json()["code"] == "analysis_locked"


@pytest.mark.parametrize(
    ("who", "reads", "attaches"),
    [
        ("data_manager", 404, 200),  # 404 to read: none attached yet when it reads first
        ("pi", 404, 403),
        ("monitor", 404, 403),
        ("coordinator", 403, 403),
        ("adjudicator", 404, 404),  # a blinded reader never learns that a model output exists
    ],
)
def test_who_reads_and_who_attaches(people, output, who, reads, attaches):
    assert api_for(people[who]).get(_url(output)).status_code == reads
    assert _upload(people[who], output, png()).status_code == attaches


def test_a_heatmap_gone_from_storage_is_a_404_not_a_500(people, output):
    assert _upload(people["data_manager"], output, png()).status_code == 200
    output.refresh_from_db()
    output.heatmap.storage.delete(output.heatmap.name)
    assert api_for(people["monitor"]).get(_url(output)).status_code == 404
    page = Client()
    page.force_login(people["monitor"])
    assert page.get(f"/reports/model-outputs/vertebrae/{output.pk}/heatmap/").status_code == 404
