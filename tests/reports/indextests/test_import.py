"""Importing model outputs from CSV (reports/indextests/services.py, csvfile.py): validated whole, every
problem with its line number and nothing saved; versions per re-import; the API's answers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.models import ModelImport, ModelOutput
from trial.models import Site

from .conftest import HEADER, api_for, csv_of, import_api

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


def test_an_import_keeps_each_vertebras_output(people, study, cases):
    answer = import_api(people["data_manager"], study, csv_of(cases))
    assert answer.status_code == 201, answer.json()
    (made,) = answer.json()["imports"]
    assert (made["model"], made["model_version"], made["version"], made["kind"]) == (
        "VGG-16", "1.0", 1, "classification",
    )  # fmt: skip
    assert made["row_count"] == 3 and made["current"] and len(made["sha256"]) == 64
    rows = ModelOutput.objects.order_by("line")
    assert [(r.participant, r.level, r.split, r.probability, r.line) for r in rows] == [
        (cases[0], "T12", "test", 0.9, 2), (cases[0], "L1", "test", 0.2, 3), (cases[1], "L2", "test", 0.6, 4),
    ]  # fmt: skip


def test_a_reimport_makes_version_2_and_keeps_version_1(people, study, cases):
    dm = people["data_manager"]
    assert import_api(dm, study, csv_of(cases)).status_code == 201
    again = import_api(dm, study, csv_of(cases, probabilities=(0.8, 0.1, 0.7)))
    assert again.status_code == 201
    assert again.json()["imports"][0]["version"] == 2
    versions = ModelImport.objects.order_by("version").values_list("version", "current", "row_count")
    assert list(versions) == [(1, False, 3), (2, True, 3)]
    assert ModelOutput.objects.filter(model_import__version=1).count() == 3  # kept, not replaced
    # Another model version starts at 1.
    other = import_api(dm, study, csv_of(cases, version="2.0"))
    assert other.json()["imports"][0]["version"] == 1


def test_one_file_may_hold_several_models_and_a_segmentation_model(people, study, cases):
    first, second = cases
    text = (
        "level,study_id,model,version,split,probability,dice\n"
        f"T12,{first.study_id},DenseNet-121,1,train,0.4,\n"
        f"L1,{first.study_id},U-Net,1,train,,0.91\n"
        f"L2,{second.study_id},U-Net,1,external,,0.88\n"
    )
    answer = import_api(people["data_manager"], study, text)
    assert answer.status_code == 201, answer.json()
    kinds = {m["model"]: (m["kind"], m["row_count"]) for m in answer.json()["imports"]}
    assert kinds == {"DenseNet-121": ("classification", 1), "U-Net": ("segmentation", 2)}
    assert ModelOutput.objects.get(level="L2").dice == 0.88


def _with_line(cases, line: str, header: str = HEADER) -> str:
    return csv_of(cases, header=header) + line + "\n"


PROBLEMS = [
    (
        "unknown study ID",
        lambda c: _with_line(c, "NOPE-99-001,L1,VGG-16,1.0,test,0.5"),
        "line 5: study ID NOPE-99-001 is not a participant of this study",
    ),
    (
        "level not registered",
        lambda c: _with_line(c, f"{c[1].study_id},L3,VGG-16,1.0,test,0.5"),
        "line 5: {sid1} has no registered level L3 (registered: L2)",
    ),
    (
        "not a level",
        lambda c: _with_line(c, f"{c[1].study_id},C7,VGG-16,1.0,test,0.5"),
        "line 5: level 'C7' is not a vertebral level (T1–L5)",  # noqa: RUF001
    ),
    (
        "probability above 1",
        lambda c: _with_line(c, f"{c[1].study_id},L2,ViT,1,test,1.2"),
        "line 5: probability 1.2 is outside 0–1",  # noqa: RUF001
    ),
    (
        "probability below 0",
        lambda c: _with_line(c, f"{c[1].study_id},L2,ViT,1,test,-0.1"),
        "line 5: probability -0.1 is outside 0–1",  # noqa: RUF001
    ),
    (
        "probability not a number",
        lambda c: _with_line(c, f"{c[1].study_id},L2,ViT,1,test,high"),
        "line 5: probability 'high' is not a number",
    ),
    (
        "probability NaN",
        lambda c: _with_line(c, f"{c[1].study_id},L2,ViT,1,test,nan"),
        "line 5: probability 'nan' is not a number",
    ),
    (
        "unknown split",
        lambda c: _with_line(c, f"{c[1].study_id},L2,ViT,1,holdout,0.3"),
        "line 5: split 'holdout' is not one of train, validation, test, external",
    ),
    (
        "duplicate vertebra",
        lambda c: _with_line(c, f"{c[1].study_id},L2,VGG-16,1.0,test,0.3"),
        "line 5: {sid1} L2 VGG-16 1.0 is already on line 4",
    ),
    ("missing column", lambda c: csv_of(c).replace("split,", "", 1), "line 1: missing column(s) split"),
    (
        "neither value",
        lambda c: _with_line(c, f"{c[1].study_id},L2,ViT,1,test,"),
        "line 5: neither a probability nor a Dice",
    ),
    (
        "a value short",
        lambda c: _with_line(c, f"{c[1].study_id},L2,ViT,1,test"),
        "line 5: 5 values for 6 columns",
    ),
]


@pytest.mark.parametrize(("problem", "make", "message"), PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_each_problem_is_a_400_with_its_line_and_nothing_is_saved(
    people, study, cases, problem, make, message
):
    answer = import_api(people["data_manager"], study, make(cases))
    assert answer.status_code == 400, answer.json()
    body = answer.json()
    assert body["code"] == "invalid_csv"
    assert message.format(sid1=cases[1].study_id) in body["csv"]
    assert not ModelImport.objects.exists() and not ModelOutput.objects.exists()


def test_every_problem_is_listed_at_once_in_line_order(people, study, cases):
    text = (
        csv_of(cases)
        + f"{cases[1].study_id},L2,ViT,1,holdout,0.3\n"
        + "NOPE-1,L1,ViT,1,test,0.3\n"
        + f"{cases[0].study_id},T12,ViT,1,test,1.2\n"
    )
    body = import_api(people["data_manager"], study, text).json()
    assert [problem.split(":")[0] for problem in body["csv"]] == ["line 5", "line 6", "line 7"]
    assert "nothing was saved" in body["detail"]


def test_a_byte_order_mark_is_read_and_other_encodings_refused(people, study, cases):
    from reports.indextests.services import model_outputs_import

    made = model_outputs_import(
        study=study, actor=people["data_manager"], content=b"\xef\xbb\xbf" + csv_of(cases).encode()
    )
    assert made[0].row_count == 3
    latin = csv_of(cases, model="Modèle").encode("latin-1")
    answer = import_api(people["data_manager"], study, "x")  # the API takes text: the service reads bytes
    assert answer.status_code == 400
    from trial.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        model_outputs_import(study=study, actor=people["data_manager"], content=latin)
    assert refused.value.field_errors["csv"][0].startswith("The file is not UTF-8 text")
    assert ModelImport.objects.count() == 1


def test_another_studys_participant_is_an_unknown_vertebra(people, study, study2, cases):
    answer = import_api(people["data_manager"], study, csv_of(cases))
    assert answer.status_code == 201
    # study2 has no data manager of the test's: give one, and import the first study's IDs there.
    from trial.models import Role

    from ...factories import StaffRoleFactory

    StaffRoleFactory(user=people["data_manager"], study=study2, site=None, role=Role.DATA_MANAGER)
    people["data_manager"].refresh_from_db()
    answer = import_api(people["data_manager"], study2, csv_of(cases))
    assert answer.status_code == 400
    assert f"line 2: study ID {cases[0].study_id} is not a participant of this study" in answer.json()["csv"]


def test_the_api_list_runs_a_fixed_number_of_queries(people, study, cases):
    dm = people["data_manager"]
    import_api(dm, study, csv_of(cases))

    def count() -> int:
        client = api_for(people["monitor"])
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(f"/api/v1/studies/{study.code}/model-imports/")
        assert answer.status_code == 200
        return len(queries), answer.json()["count"]

    one = count()
    for n in range(3):
        import_api(dm, study, csv_of(cases, model=f"M{n}"))
    many = count()
    assert (one[1], many[1]) == (1, 4)
    assert one[0] == many[0] == 4, (one, many)  # roles, study, count, page


def test_a_split_must_be_its_centres_by_the_sites_cohort(people, study, cases):
    first, second = cases
    sites = Site.objects.filter(pk__in=[first.site_id, second.site_id])
    sites.update(cohort="development")
    text = (
        f"{HEADER}\n"
        f"{first.study_id},T12,VGG-16,1.0,external,0.9\n"  # a development centre's case called external
        f"{first.study_id},L1,VGG-16,1.0,validation,0.2\n"
        f"{second.study_id},L2,VGG-16,1.0,test,0.6\n"
    )
    answer = import_api(people["data_manager"], study, text)
    assert answer.status_code == 400
    assert answer.json()["csv"] == [
        "line 2: split external is not one of its centre's (cohort development: test, train, validation)"
    ]
    assert not ModelImport.objects.exists()

    sites.update(cohort="external_validation")
    answer = import_api(people["data_manager"], study, text)
    assert answer.json()["csv"] == [
        "line 3: split validation is not one of its centre's (cohort external validation: external)",
        "line 4: split test is not one of its centre's (cohort external validation: external)",
    ]
    sites.update(cohort="")  # a centre without a cohort takes any split
    assert import_api(people["data_manager"], study, text).status_code == 201
