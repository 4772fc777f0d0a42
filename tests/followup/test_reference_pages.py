"""The reference standard's reading, as its readers see it (NCT07306858): the queue and the reading page ask
the protocol's question with its two answers in both languages, show the vertebra, the case number and the
CT and MRI exams (never a UID), and ask nothing the protocol does not ask (levels, Genant grade, event date).

Blinding (STARD 2015 item 13b): the readers' answers (queue, counts and packet through the API; the queue and
reading pages) never show the case's registration group (its clinical diagnosis), its centre, or the outputs
of the models under evaluation (reports.ModelOutput: name, version, probability)."""

import json
import re

import pytest

from followup.models import AdjudicationCase, CaseAssignment, Verdict
from reports.indextests.services import model_outputs_import
from tests.conftest import client_for

from .adjudication_page_helpers import logged_in
from .reading_helpers import reading_code
from .reference_helpers import (  # noqa: F401 -- fixtures
    QUEUE,
    fixture_ref_people,
    fixture_register_case,
    fixture_retro,
    signed,
)

pytestmark = pytest.mark.frozen

MODEL, VERSION, PROBABILITY = "DenseNet-121-ref", "7.3.1", "0.8765"
QUESTION = {
    "en": "Acute fracture? (marrow oedema: low T1, high STIR/T2 signal)",
    "zh-hans": "急性骨折？（骨髓水肿：T1低信号，STIR/T2高信号）",  # noqa: RUF001 -- Chinese punctuation
}
SITE_WORDS = (
    "CQ1",
    "EXT1",
    "Chongqing",
    "重庆",
    "External validation",
    "外部验证",
    "development",
    "external_validation",
)
# The groups' labels (the case's clinical diagnosis). "Acute fracture" itself opens the question's wording, so
# the test compares an acute case's packet with a chronic one's instead (below).
GROUP_WORDS = ("Chronic fracture", "慢性骨折")


@pytest.fixture
def pair(register_case, ref_people, retro):
    """An acute and a chronic case, alike but for their group and centre, each L1 read by ref_adj_a, with
    every model's output imported for both."""
    acute = register_case(levels=("L1",), group="acute", site_code="CQ1")
    chronic = register_case(levels=("L1",), group="chronic", site_code="EXT1")
    split = {"CQ1": "test", "EXT1": "external"}  # as the centre's cohort allows
    lines = [
        f"{p.study_id},L1,{MODEL},{VERSION},{split[p.site.code]},{PROBABILITY}" for p in (acute, chronic)
    ]
    content = "study_id,level,model,version,split,probability\n" + "\n".join(lines) + "\n"
    model_outputs_import(study=retro, actor=ref_people["dm"], content=content.encode())
    cases = [AdjudicationCase.objects.get(participant=p) for p in (acute, chronic)]
    for case in cases:
        assert CaseAssignment.objects.filter(case=case, reader=ref_people["ref_adj_a"], active=True).exists()
    return {"acute": acute, "chronic": chronic, "cases": cases}


def leaks(text: str, participants) -> list[str]:
    words = [*SITE_WORDS, *GROUP_WORDS, MODEL, VERSION, PROBABILITY, "probability", "DenseNet"]
    words += [p.study_id for p in participants]
    return [word for word in words if word in text]


def test_the_readers_api_answers_show_no_group_centre_or_model_output(pair, ref_people):
    reader = client_for(ref_people["ref_adj_a"])
    people = (pair["acute"], pair["chronic"])
    answers = {
        "queue": reader.get(QUEUE),
        "tab": reader.get(QUEUE, {"bucket": "awaiting_me"}),
        "counts": reader.get(f"{QUEUE}counts/"),
        **{
            f"packet {c.pk}": reader.get(f"{QUEUE}{reading_code(c, ref_people['ref_adj_a'])}/")
            for c in pair["cases"]
        },
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, name
        text = json.dumps(answer.json(), ensure_ascii=False)
        assert leaks(text, people) == [], name
        assert '"group"' not in text and '"site"' not in text, name
    packets = [answers[f"packet {c.pk}"].json() for c in pair["cases"]]
    # Alike but for the group and centre: the two packets are the same but for the reader's code for the case
    # and their slot.
    for packet in packets:
        packet["case"].pop("code"), packet["case"].pop("slot")
    assert packets[0] == packets[1]
    packet = packets[0]
    assert packet["question"]["label"] == QUESTION
    assert (packet["question"]["positive"], packet["question"]["negative"]) == (
        {"en": "Acute", "zh-hans": "急性"},
        {"en": "Chronic", "zh-hans": "慢性"},
    )
    assert (packet["question"]["asks"], packet["question"]["cases"]) == ([], "registered_levels")
    assert packet["imaging_exams"] == [
        {"modality": "CT", "study_date": "2026-01-01", "body_parts": ["LSPINE"], "series_count": 1},
        {"modality": "MR", "study_date": "2026-01-04", "body_parts": ["LSPINE"], "series_count": 1},
    ]
    assert packet["case"]["level"] == "L1" and packet["exams"] == [] and packet["treated_levels"] == []
    queued = answers["queue"].json()["results"]
    assert [row["question"]["positive"]["en"] for row in queued] == ["Acute", "Acute"]
    assert not re.search(r"[0-9a-f]{32,}|1\.2\.8\d\d\.", json.dumps(packets)), "no UID, hashed or not"


@pytest.mark.parametrize(
    ("language", "answers"), [("en", ("Acute", "Chronic")), ("zh-hans", ("急性", "慢性"))]
)
def test_the_queue_and_reading_pages_ask_the_protocols_question(pair, ref_people, language, answers):
    question = QUESTION[language]
    client = logged_in(ref_people["ref_adj_a"], language)
    people = (pair["acute"], pair["chronic"])
    queue = client.get("/adjudication/").content.decode()
    assert question in queue and all(answer in queue for answer in answers)
    assert leaks(queue, people) == []
    case = pair["cases"][1]
    html = client.get(f"/adjudication/{reading_code(case, ref_people['ref_adj_a'])}/").content.decode()
    assert leaks(html, people) == []
    assert question in html
    for answer in answers:
        assert re.search(rf"<label[^>]*for=\"id_fracture_\d\"[^>]*>\s*(<[^>]+>\s*)*{answer}", html), answer
    for absent in ('name="levels"', 'name="genant_grade"', 'name="event_date"', 'name="acute_signal"'):
        assert absent not in html
    assert "2026-01-01" in html and "2026-01-04" in html and ">MR<" in html and ">CT<" in html


def test_a_reader_signs_the_answer_on_the_page(pair, ref_people):
    case = pair["cases"][0]
    reader = ref_people["ref_adj_a"]
    client = logged_in(reader, "en")
    review = f"/adjudication/{reading_code(case, reader)}/"
    answer = client.post(review, {"fracture": "false", "confidence": "high", **signed(reader)})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    verdict = Verdict.objects.get(case=case)
    assert (verdict.fracture, verdict.levels, verdict.genant_grade, verdict.event_date) == (
        False,
        [],
        None,
        None,
    )
    page = client.get(review).content.decode()
    assert re.search(r'data-role="fracture">\s*Chronic\s*<', page)


def test_the_board_and_the_case_page_give_the_final_answer_in_the_questions_words(pair, ref_people):
    case = pair["cases"][0]
    for reader in CaseAssignment.objects.filter(case=case, active=True).select_related("reader"):
        answer = client_for(reader.reader).post(
            f"{QUEUE}{reader.reading_code}/verdict/",
            {"fracture": True, "confidence": "high", **signed(reader.reader)},
        )
        assert answer.status_code == 201, answer.content
    dm = logged_in(ref_people["dm"], "zh-hans")
    board = dm.get("/adjudication/cases/", {"status": "final"}).content.decode()
    assert re.search(r'data-role="result">急性<', board)
    page = dm.get(f"/adjudication/cases/{case.pk}/").content.decode()
    assert re.search(r'data-role="result">急性<', page)
    assert len(re.findall(r'class="result result-yes">急性<', page)) == 2  # both verdicts


@pytest.mark.parametrize(
    ("language", "acute", "chronic"), [("en", "Acute", "Chronic"), ("zh-hans", "急性", "慢性")]
)
def test_the_timeline_states_each_vertebras_final_reading_in_the_questions_words(
    register_case, ref_people, language, acute, chronic
):
    participant = register_case(levels=("T12", "L1"), group="acute")
    cases = AdjudicationCase.objects.filter(participant=participant)
    cases.filter(level="T12").update(status="final", final_fracture=True)
    cases.filter(level="L1").update(status="final", final_fracture=False)
    page = logged_in(ref_people["coord_cq1"], language).get(f"/participants/{participant.study_id}/timeline/")
    assert page.status_code == 200
    rows = dict(
        re.findall(
            r'<span class="code">(T12|L1)</span>.*?data-role="result"><strong>([^<]+)</strong>',
            page.content.decode(),
            re.S,
        )
    )
    assert rows == {"T12": acute, "L1": chronic}
    assert "New fracture confirmed" not in page.content.decode()
