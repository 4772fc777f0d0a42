"""The model-output pages (reports/indextests/views.py): the upload form and its errors with line numbers,
the imports with their versions, the lock, the rows with their heatmaps, in English and Chinese; who may;
a fixed number of queries; a heatmap judged by its bytes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.indextests.services import model_outputs_import
from reports.models import AnalysisLock, ModelImport, ModelOutput

from .conftest import chinese_catalogue, csv_of, page_for
from .pictures import jpeg_header, png

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]
PAGE = "/reports/model-outputs/"


def upload(text: str, name: str = "outputs.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.mark.parametrize(
    ("language", "heading", "button", "current"),
    [("en", "Model outputs", "Import", "current"), ("zh-hans", "模型输出", "导入", "当前")],
)
def test_a_data_manager_imports_from_the_page(people, study, cases, language, heading, button, current):
    chinese_catalogue(language)
    client = page_for(people["data_manager"], language)
    html = client.get(PAGE).content.decode()
    assert f"<h1>{heading}" in html and f">{button}</button>" in html
    answer = client.post(f"{PAGE}?study={study.code}", {"csv": upload(csv_of(cases))})
    assert answer.status_code == 302
    client.post(f"{PAGE}?study={study.code}", {"csv": upload(csv_of(cases, probabilities=(0.1, 0.1, 0.1)))})
    html = client.get(answer["Location"]).content.decode()
    assert html.count("VGG-16") >= 2 and "v1" in html and "v2" in html and current in html
    assert list(ModelImport.objects.values_list("version", flat=True).order_by("version")) == [1, 2]


EN_ERRORS = ["line 5: probability 1.2 is outside 0–1", "line 6: study ID NOPE-1 is not a participant"]  # noqa: RUF001
ZH_ERRORS = ["第 5 行：probability 1.2 不在 0–1 范围内", "第 6 行：研究编号 NOPE-1 不是本研究的受试者"]  # noqa: RUF001


@pytest.mark.parametrize(("language", "expected"), [("en", EN_ERRORS), ("zh-hans", ZH_ERRORS)])
def test_the_pages_errors_name_their_lines_and_nothing_is_saved(people, study, cases, language, expected):
    chinese_catalogue(language)
    text = csv_of(cases) + f"{cases[1].study_id},L2,ViT,1,test,1.2\nNOPE-1,L1,ViT,1,test,0.3\n"
    answer = page_for(people["data_manager"], language).post(
        f"{PAGE}?study={study.code}", {"csv": upload(text)}
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    for message in expected:
        assert message in html
    assert not ModelImport.objects.exists()


def test_the_lock_from_the_page_freezes_the_upload(people, study, cases):
    model_outputs_import(study=study, actor=people["data_manager"], content=csv_of(cases).encode())
    client = page_for(people["pi"])
    assert client.post(f"{PAGE}lock/?study={study.code}", {"reason": ""}).status_code == 400
    answer = client.post(f"{PAGE}lock/?study={study.code}", {"reason": "Final outputs."})
    assert answer.status_code == 302 and AnalysisLock.objects.get().reason == "Final outputs."
    html = page_for(people["data_manager"]).get(f"{PAGE}?study={study.code}").content.decode()
    assert "cannot be unlocked" in html and 'id="import-form"' not in html and "analysed" in html
    refused = page_for(people["data_manager"]).post(
        f"{PAGE}?study={study.code}", {"csv": upload(csv_of(cases, model="ViT"))}
    )
    assert refused.status_code == 409 and "is locked" in refused.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [("data_manager", 200), ("pi", 200), ("monitor", 200), ("site_pi", 403), ("coordinator", 403),
     ("adjudicator", 404)],
)  # fmt: skip
def test_who_opens_the_pages(people, study, cases, who, status):
    (made,) = model_outputs_import(study=study, actor=people["data_manager"], content=csv_of(cases).encode())
    client = page_for(people[who])
    assert client.get(f"{PAGE}?study={study.code}").status_code == status
    assert client.get(f"{PAGE}{made.pk}/").status_code == status
    body = client.get(f"{PAGE}{made.pk}/").content.decode()
    if who == "adjudicator":
        assert "VGG" not in body and cases[0].study_id not in body
    posted = client.post(f"{PAGE}?study={study.code}", {"csv": upload(csv_of(cases))})
    assert posted.status_code == (302 if who == "data_manager" else 404 if who == "adjudicator" else 403)


def test_the_list_pages_run_a_fixed_number_of_queries(people, study, cases):
    dm = people["data_manager"]
    model_outputs_import(study=study, actor=dm, content=csv_of(cases).encode())

    def count(url) -> int:
        client = page_for(people["monitor"])
        client.get(url)  # the session's first reads (language, messages) aside
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = ModelImport.objects.get()
    one = (count(f"{PAGE}?study={study.code}"), count(f"{PAGE}{first.pk}/"))
    for n in range(3):
        model_outputs_import(study=study, actor=dm, content=csv_of(cases, model=f"M{n}").encode())
    model_outputs_import(study=study, actor=dm, content=csv_of(cases).encode())  # VGG-16 v2
    many = (count(f"{PAGE}?study={study.code}"), count(f"{PAGE}{first.pk}/"))
    assert one == many == (9, 9), (one, many)


def test_a_heatmap_is_judged_by_its_bytes_and_served_to_readers_only(people, study, cases):
    dm = people["data_manager"]
    model_outputs_import(study=study, actor=dm, content=csv_of(cases).encode())
    output = ModelOutput.objects.get(level="L1")
    url = f"{PAGE}vertebrae/{output.pk}/heatmap/"
    client = page_for(dm)
    disguised = SimpleUploadedFile(
        "gradcam.png", b"<html><script>alert(1)</script>", content_type="image/png"
    )
    refused = client.post(url, {"heatmap": disguised})
    assert refused.status_code == 400 and "Upload a PNG or JPEG image" in refused.content.decode()
    output.refresh_from_db()
    assert not output.heatmap
    assert client.get(url).status_code == 404  # none yet
    # A real JPEG named .txt is taken, as image/jpeg (its bytes say so).
    assert client.post(url, {"heatmap": SimpleUploadedFile("x.txt", jpeg_header())}).status_code == 302
    assert page_for(people["monitor"]).get(url)["Content-Type"] == "image/jpeg"
    assert client.post(url, {"heatmap": SimpleUploadedFile("map.png", png())}).status_code == 302
    served = page_for(people["monitor"]).get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png()
    assert served["X-Content-Type-Options"] == "nosniff"
    html = page_for(people["monitor"]).get(f"{PAGE}{output.model_import_id}/").content.decode()
    assert f'<img src="{url}"' in html  # beside the case
    assert page_for(people["coordinator"]).get(url).status_code == 403
    assert page_for(people["adjudicator"]).get(url).status_code == 404
    assert (
        page_for(people["pi"]).post(url, {"heatmap": SimpleUploadedFile("m.png", png())}).status_code == 403
    )
