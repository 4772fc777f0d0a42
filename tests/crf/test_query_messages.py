"""Texts the edit checks write into query threads are stored as a message code with its parameters and read in
each reader's language (pages and API); a person's words stay as typed; older rows get their codes."""

import re

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunSQL
from django.utils import translation

from crf import services
from crf.models import DataQuery, FormRecord, QueryAction, QueryMessage

from .conftest import PROCEDURE, form_url, put
from .page_helpers import logged_in, page_url

# The services judge the procedure date against the participant's consent and the site's today: the clock
# is stopped at FROZEN_AT (tests/conftest.py) so the checks mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

QUERIES = "/api/v1/queries/"
# Consent was 2026-01-06 (tests/conftest.py): a procedure the day before raises the form's declared check
# PROCEDURE_BEFORE_CONSENT; 12 mL of cement at L1 is outside the expected 1 to 10 mL (a soft range).
WARNED = PROCEDURE | {
    "procedure_date": "2026-01-05",
    "levels": [PROCEDURE["levels"][0] | {"cement_volume": 12}, PROCEDURE["levels"][1]],
}
CHECK_EN = "The procedure date is before the date of informed consent."
CHECK_ZH = "手术日期早于知情同意日期。"
RANGE_EN = "12.0 mL is outside the expected 1 to 10: please confirm."
RANGE_ZH = "12.0 mL 超出预期范围（1 至 10），请核实。"  # noqa: RUF001 (the translation's full-width brackets)
RESOLVED_EN = "Resolved by a change of the data."
RESOLVED_ZH = "数据修改后已自动解决。"


def raised(check: str) -> QueryMessage:
    return QueryMessage.objects.get(query__check_code=check, action=QueryAction.RAISE)


def thread(html: str, query: DataQuery) -> str:
    """The query's own thread on the form page (the warnings list above the form is evaluated anew)."""
    return re.search(rf'<article [^>]*id="q-{query.pk}".*?</article>', html, re.S).group(0)


def test_edit_checks_store_their_message_as_a_code_with_its_parameters(clients, participant):
    # given a coordinator reading the pages in Chinese, when a save raises a declared check and a soft range
    url = form_url(participant)
    clients["coordinator"].put(url, {"data": WARNED}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    check, soft_range = raised("PROCEDURE_BEFORE_CONSENT"), raised("RANGE_CEMENT_VOLUME")
    # then each message is stored as data, and its text in English whatever the saver's language
    assert (check.code, check.params) == ("check", {"form": "procedure", "check": "PROCEDURE_BEFORE_CONSENT"})
    assert (soft_range.code, soft_range.params) == (
        "soft_range",
        {"value": 12.0, "unit": "mL", "low": 1, "high": 10},
    )
    assert (check.text, soft_range.text) == (CHECK_EN, RANGE_EN)
    # when the values are corrected, the queries close with a coded message too
    put(clients["coordinator"], participant, PROCEDURE, version=1)
    closes = QueryMessage.objects.filter(action=QueryAction.CLOSE)
    assert [(m.code, m.params, m.text) for m in closes] == [("resolved_by_data", {}, RESOLVED_EN)] * 2
    with translation.override("zh-hans"):
        assert [m.display_text for m in closes] == [RESOLVED_ZH] * 2


def test_the_engine_warning_carries_the_message_as_data(clients, participant):
    put(clients["coordinator"], participant, WARNED)
    body = clients["coordinator"].get(form_url(participant))
    warnings = {w["check"]: w for w in body.json()["warnings"]}
    assert warnings["RANGE_CEMENT_VOLUME"]["message_code"] == "soft_range"
    assert warnings["RANGE_CEMENT_VOLUME"]["message_params"] == {
        "value": 12.0,
        "unit": "mL",
        "low": 1,
        "high": 10,
    }
    assert warnings["PROCEDURE_BEFORE_CONSENT"]["message_params"] == {
        "form": "procedure",
        "check": "PROCEDURE_BEFORE_CONSENT",
    }


def test_a_chinese_reader_sees_the_checks_messages_in_chinese(staff, clients, participant):
    # given queries raised while an English-reading coordinator saved the form
    put(clients["coordinator"], participant, WARNED)
    check = DataQuery.objects.get(check_code="PROCEDURE_BEFORE_CONSENT")
    soft_range = DataQuery.objects.get(check_code="RANGE_CEMENT_VOLUME")
    # when a Chinese-reading monitor opens the form page
    html = logged_in(staff["monitor"], "zh-hans").get(page_url(participant)).content.decode()
    # then the threads read in Chinese, and the English text is nowhere
    assert CHECK_ZH in thread(html, check) and RANGE_ZH in thread(html, soft_range)
    assert CHECK_EN not in html and "is outside the expected" not in html
    # and so does the query list
    listed = logged_in(staff["monitor"], "zh-hans").get("/queries/").content.decode()
    assert CHECK_ZH in listed and RANGE_ZH in listed and CHECK_EN not in listed
    # while an English reader reads them in English
    english = logged_in(staff["monitor"], "en").get("/queries/").content.decode()
    assert CHECK_EN in english and RANGE_EN in english and CHECK_ZH not in english


def test_the_api_answers_in_the_request_language_with_the_code_and_params(clients, participant):
    put(clients["coordinator"], participant, WARNED)
    for language, check_text, range_text in (("zh-hans", CHECK_ZH, RANGE_ZH), ("en", CHECK_EN, RANGE_EN)):
        body = clients["monitor"].get(QUERIES, HTTP_ACCEPT_LANGUAGE=language).json()
        first = {q["check_code"]: q["messages"][0] for q in body["results"]}
        assert first["PROCEDURE_BEFORE_CONSENT"] == first["PROCEDURE_BEFORE_CONSENT"] | {
            "text": check_text,
            "code": "check",
            "params": {"form": "procedure", "check": "PROCEDURE_BEFORE_CONSENT"},
        }, language
        assert first["RANGE_CEMENT_VOLUME"]["text"] == range_text, language
        assert first["RANGE_CEMENT_VOLUME"]["code"] == "soft_range"


def test_a_persons_words_stay_as_typed_in_every_language(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    record = FormRecord.objects.get()
    # A monitor's words that happen to read like a machine's text are still theirs.
    words = "Resolved by a change of the data."
    query = services.query_raise(actor=staff["monitor"], record=record, field_path="operator", text=words)
    services.query_step(actor=staff["coordinator"], query=query, action="answer", text="术者为 Dr Demo。")
    assert list(QueryMessage.objects.values_list("code", "params")) == [("", {}), ("", {})]
    for language in ("en", "zh-hans"):
        html = logged_in(staff["monitor"], language).get(page_url(participant)).content.decode()
        assert words in thread(html, query) and "术者为 Dr Demo。" in thread(html, query), language
        assert RESOLVED_ZH not in html
        api = clients["monitor"].get(f"{QUERIES}{query.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
        assert [m["text"] for m in api["messages"]] == [words, "术者为 Dr Demo。"]
        assert [m["code"] for m in api["messages"]] == ["", ""]


def test_a_check_no_form_declares_any_more_shows_its_stored_text():
    from crf.engine import messages

    params = {"form": "procedure", "check": "GONE"}
    assert messages.message_text("check", params, fallback="as stored", language="zh-hans") == "as stored"
    assert messages.message_text("soft_range", {}, fallback="as stored") == "as stored"
    assert messages.message_text("", {}, fallback="typed") == "typed"


# --- the rows written before messages had codes ------------------------------------------------------------


def run_code_migration() -> None:
    """The data step of the migration that added the codes, run on rows written as the old code wrote them
    (found by its name: the migration's number may change when branches merge)."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    (migration,) = [
        m for (app, name), m in loader.disk_migrations.items() if name.endswith("_query_message_code")
    ]
    (step,) = [op for op in migration.operations if isinstance(op, RunSQL)]
    with connection.cursor() as cursor:
        for sql in step.sql:
            cursor.execute(sql)


def old_message(query: DataQuery, text: str, *, action=QueryAction.RAISE, author=None) -> QueryMessage:
    return QueryMessage.objects.create(query=query, action=action, author=author, text=text)


def test_the_migration_codes_the_machine_written_rows_and_keeps_their_text(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    record = FormRecord.objects.get()

    def query(check: str, path: str) -> DataQuery:
        return DataQuery.objects.create(record=record, check_code=check, field_path=path, auto=True)

    check = old_message(query("PROCEDURE_BEFORE_CONSENT", "procedure_date"), CHECK_EN)
    in_chinese = query("RANGE_OPERATIVE_TIME", "operative_time")
    range_zh = old_message(in_chinese, "250 min 超出预期范围（5 至 180），请核实。")  # noqa: RUF001
    range_en = old_message(query("RANGE_CEMENT_VOLUME", "levels[L1].cement_volume"), RANGE_EN)
    open_bound = old_message(
        query("RANGE_CIGARETTES_PER_DAY", "cigarettes_per_day"),
        "80 /day is outside the expected … to 60: please confirm.",
    )
    unreadable = old_message(
        query("RANGE_T_SCORE", "t_score"), "1e-05 SD is outside the expected -5 to 3: please confirm."
    )
    resolved_en = old_message(in_chinese, RESOLVED_EN, action=QueryAction.CLOSE)
    resolved_zh = old_message(in_chinese, RESOLVED_ZH, action=QueryAction.CLOSE)
    answer = old_message(in_chinese, RESOLVED_EN, action=QueryAction.ANSWER, author=staff["coordinator"])
    manual = DataQuery.objects.create(record=record, field_path="operator", raised_by=staff["monitor"])
    person = old_message(manual, RANGE_EN, author=staff["monitor"])
    texts = dict(QueryMessage.objects.values_list("pk", "text"))

    run_code_migration()

    def coded(message: QueryMessage) -> tuple[str, dict]:
        message.refresh_from_db()
        return message.code, message.params

    assert coded(check) == ("check", {"form": "procedure", "check": "PROCEDURE_BEFORE_CONSENT"})
    assert coded(range_zh) == ("soft_range", {"value": 250, "unit": "min", "low": 5, "high": 180})
    assert coded(range_en) == ("soft_range", {"value": 12.0, "unit": "mL", "low": 1, "high": 10})
    assert coded(open_bound) == ("soft_range", {"value": 80, "unit": "/day", "low": None, "high": 60})
    assert coded(resolved_en) == coded(resolved_zh) == ("resolved_by_data", {})
    assert coded(unreadable) == coded(answer) == coded(person) == ("", {})
    assert dict(QueryMessage.objects.values_list("pk", "text")) == texts  # the original texts are kept
    # the numbers read back as they were written: an English reader sees the very text that was stored
    with translation.override("en"):
        for message in (check, range_en, open_bound, resolved_zh):
            message.refresh_from_db()
        shown = (check, range_en, open_bound)
        assert [m.display_text for m in shown] == [m.text for m in shown]
        assert resolved_zh.display_text == RESOLVED_EN
    with translation.override("zh-hans"):
        range_en.refresh_from_db()
        assert (check.display_text, range_en.display_text) == (CHECK_ZH, RANGE_ZH)
