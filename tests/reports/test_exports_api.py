"""The exports API: POST /api/v1/studies/{code}/exports/ (202 with the job and its Location), the job's
export options (never the salt), 400 with field messages, who may, the study's export jobs in a fixed number
of queries, every download logged, the schema; and the flow through a real Celery worker."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.jobs import job_execute
from reports.models import Download, Job

from .conftest import api_for, wait_for

URL = "/api/v1/studies/NCT06379243/exports/"

pytestmark = pytest.mark.usefixtures("fake_export")


def _done(client, body: dict) -> dict:
    job_execute(body["id"])
    return client.get(f"/api/v1/jobs/{body['id']}/").json()


@pytest.mark.django_db
def test_a_data_manager_asks_for_an_export_and_reads_its_options(people):
    client = api_for(people["data_manager"], "zh-hans")
    answer = client.post(URL, {"format": "sav", "dataset": "long"}, format="json")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert answer["Location"] == body["links"]["self"] == f"http://testserver/api/v1/jobs/{body['id']}/"
    assert (body["kind"], body["status"], body["language"]) == ("export", "queued", "zh-hans")
    assert body["export"] == {
        "format": "sav",
        "format_label": "SPSS（.sav）",  # noqa: RUF001
        "dataset": "long",
        "deidentify": False,
        "bom": False,
    }
    assert body["links"]["download"] is None
    job = Job.objects.get(pk=body["id"])
    assert job.params == {
        "format": "sav",
        "dataset": "long",
        "deidentify": False,
        "bom": False,
        "language": "zh-hans",  # the reader's language by default
    }


@pytest.mark.django_db
def test_the_salt_stays_with_the_job_and_out_of_every_answer(people, study):
    client = api_for(people["pi"])
    answer = client.post(URL, {"format": "csv", "deidentify": True, "bom": True}, format="json")
    assert answer.status_code == 202, answer.content
    salt = Job.objects.get(pk=answer.json()["id"]).params["salt"]
    assert answer.json()["export"]["deidentify"] is True and answer.json()["export"]["bom"] is True
    done = _done(client, answer.json())
    assert done["status"] == "done"
    listed = client.get("/api/v1/studies/NCT06379243/jobs/?kind=export")
    for text in (answer.content, json.dumps(done).encode(), listed.content):
        assert salt.encode() not in text and b"salt" not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "format", "This field is required."),
        ({"format": "pdf"}, "format", '"pdf" is not a valid choice.'),
        ({"format": "csv", "dataset": "wide"}, "dataset", '"wide" is not a valid choice.'),
        ({"format": "csv", "deidentify": "maybe"}, "deidentify", "Must be a valid boolean."),
        ({"format": "csv", "language": "fr"}, "language", '"fr" is not a valid choice.'),
        # The options the format has no use for: judged by the service, the same shape of answer.
        ({"format": "odm", "dataset": "long"}, "dataset", "has its own layout"),
        ({"format": "xlsx", "bom": True}, "bom", "The byte-order mark applies to CSV and REDCap files only."),
    ],
)
def test_bad_input_is_a_400_naming_the_field(people, body, field, message):
    answer = api_for(people["pi"]).post(URL, body, format="json")
    assert answer.status_code == 400
    assert message in answer.json()[field][0]
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_400_is_in_the_readers_language(people):
    answer = api_for(people["pi"], "zh-hans").post(URL, {"format": "dta", "bom": True}, format="json")
    assert answer.status_code == 400
    assert answer.json()["bom"] == ["字节顺序标记（BOM）仅适用于 CSV 和 REDCap 文件。"]  # noqa: RUF001


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("pi", 202),
        ("data_manager", 202),
        ("site_pi", 403),  # an export covers every site
        ("coordinator", 403),
        ("monitor", 403),
        ("adjudicator", 404),  # blinded: learns nothing, not even that the study has exports
    ],
)
def test_who_may_ask_read_and_download_an_export(people, who, status):
    client = api_for(people[who])
    assert client.post(URL, {"format": "csv"}, format="json").status_code == status
    job = Job.objects.get(pk=api_for(people["pi"]).post(URL, {"format": "xlsx"}, format="json").json()["id"])
    job_execute(job.pk)
    read = 200 if status == 202 else status
    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == read
    assert client.get(f"/api/v1/jobs/{job.pk}/download/").status_code == read
    assert client.get("/api/v1/studies/NCT06379243/jobs/?kind=export").status_code == read
    assert Download.objects.count() == (1 if read == 200 else 0)


@pytest.mark.django_db
def test_an_unknown_study_is_a_404(people):
    answer = api_for(people["pi"]).post("/api/v1/studies/NOPE/exports/", {"format": "csv"}, format="json")
    assert answer.status_code == 404


@pytest.mark.django_db
def test_every_download_is_logged(people):
    pi, dm = api_for(people["pi"]), api_for(people["data_manager"])
    done = _done(pi, pi.post(URL, {"format": "redcap", "bom": True}, format="json").json())
    assert done["export"]["dataset"] is None  # REDCap: its own layout
    for client in (pi, dm, pi):
        download = client.get(done["links"]["download"])
        assert download.status_code == 200
        content = b"".join(download.streaming_content)
        assert content.startswith(b"export of NCT06379243") and b"'redcap'" in content
    assert list(Download.objects.order_by("id").values_list("job_id", "user__username", "via")) == [
        (done["id"], "pi", "api"),
        (done["id"], "dm", "api"),
        (done["id"], "pi", "api"),
    ]
    log = dm.get("/api/v1/studies/NCT06379243/downloads/").json()
    assert (log["count"], log["results"][0]["kind"]) == (3, "export")


@pytest.mark.django_db
def test_the_export_list_runs_the_same_queries_for_two_jobs_or_twelve(people, study, make_user):
    client = api_for(people["data_manager"])

    def listed() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/api/v1/studies/NCT06379243/jobs/?kind=export")
        assert answer.status_code == 200
        return [job["export"]["format"] for job in answer.json()["results"]], len(queries)

    client.post("/api/v1/studies/NCT06379243/interim-reports/", {}, format="json")  # not an export
    _done(client, client.post(URL, {"format": "csv"}, format="json").json())
    api_for(people["pi"]).post(URL, {"format": "odm", "deidentify": True}, format="json")
    two = listed()
    for n in range(10):
        asker = make_user(f"dm{n}", role="data_manager", study=study)
        body = api_for(asker).post(URL, {"format": "dta"}, format="json").json()
        if n % 2:
            job_execute(body["id"])
    twelve = listed()
    assert two[0] == ["odm", "csv"] and len(twelve[0]) == 12
    assert two[1] == twelve[1]


@pytest.mark.django_db
def test_the_schema_documents_the_export_request(people):
    schema = api_for(people["pi"]).get("/api/schema/?format=json").json()
    post = schema["paths"]["/api/v1/studies/{code}/exports/"]["post"]
    assert {"202", "400", "403", "404"} <= set(post["responses"])
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    # One variant per group of formats with the same options (the dataset, the byte-order mark).
    variants = [
        schema["components"]["schemas"][variant["$ref"].rsplit("/", 1)[1]]
        for variant in schema["components"]["schemas"][body]["oneOf"]
    ]
    for request in variants:
        assert set(request["properties"]) == {"format", "dataset", "deidentify", "bom", "language"}
        assert request["required"] == ["format"] and request["additionalProperties"] is False
    components = schema["components"]["schemas"]

    def enum(prop: dict) -> list:
        return components[(prop.get("allOf") or [prop])[0]["$ref"].rsplit("/", 1)[1]]["enum"]

    rules = {tuple(enum(v["properties"]["format"])): v["properties"] for v in variants}
    assert rules[("xlsx", "dta", "sav")]["bom"]["default"] is False
    assert enum(rules[("xlsx", "dta", "sav")]["bom"]) == [False]  # the server: 400 naming bom
    assert enum(rules[("odm",)]["dataset"]) == ["analysis"]
    assert rules[("csv", "csv-labels")]["bom"]["type"] == "boolean"
    refused = post["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"format", "dataset", "deidentify", "bom", "language"} <= set(
        schema["components"]["schemas"][refused]["properties"]
    )
    components = schema["components"]["schemas"]
    assert components["JobOut"]["properties"]["export"]
    assert set(components["ExportOptionsOut"]["properties"]) == {
        "format",
        "format_label",
        "dataset",
        "deidentify",
        "bom",
    }


@pytest.mark.django_db(transaction=True)
def test_an_export_through_a_real_worker(people, export_worker, gate):
    client = api_for(people["data_manager"])
    answer = client.post(URL, {"format": "dta", "deidentify": True, "language": "zh-hans"}, format="json")
    assert answer.status_code == 202, answer.content
    detail = answer["Location"]
    running = wait_for(lambda: client.get(detail).json(), lambda job: job["steps_done"] == 1)
    assert (running["status"], running["step"], running["steps_total"]) == ("running", "capture", 4)
    (gate / f"job-{answer.json()['id']}").touch()
    done = wait_for(lambda: client.get(detail).json(), lambda job: job["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    content = b"".join(client.get(done["links"]["download"]).streaming_content)
    assert b"('format', 'dta')" in content and b"('deidentify', True)" in content
    assert b"('language', 'zh-hans')" in content
