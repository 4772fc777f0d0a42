"""The CRF pages name values and forms as a person reads them (the row and the field: "Level L1", "Cement
volume"; "Procedure"), in the page's language: engine paths (levels[L1].cement_volume) and check codes stay
in the markup only."""

import re

import pytest

from crf import services
from crf.engine.definitions import form_definition
from crf.forms_ui import path_label
from crf.models import DataQuery, FormRecord

from .conftest import PROCEDURE, form_url, put
from .page_helpers import LEVEL_L1, LEVEL_T12, logged_in, page_url, procedure_post

# The services judge the procedure's dates against the site's today: the clock is stopped at FROZEN_AT.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

SEP = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "
CODES = re.compile(r"levels\[|cement_volume|RANGE_[A-Z_]+|PROCEDURE_[A-Z_]+")


def visible(html: str) -> str:
    """The text a reader sees: no tags (attributes and hidden inputs carry paths for the scripts), no
    scripts, and entities as characters."""
    html = re.sub(r"<(script|template)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", text.replace("&rsaquo;", "›").replace("&#x27;", "'"))  # noqa: RUF001


def section(html: str, pattern: str) -> str:
    return visible(re.search(pattern, html, re.S).group(0))


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", f"Level L1{SEP}Cement volume"), ("zh-hans", f"节段 L1{SEP}骨水泥注入量")],
)
def test_path_label_names_the_row_and_the_field(language, label):
    from django.utils import translation

    form = form_definition("procedure")
    with translation.override(language):
        assert path_label(form, "levels[L1].cement_volume") == label
        assert path_label(form, "operative_time") == {"en": "Operative time", "zh-hans": "手术时间"}[language]
        assert path_label(form, "levels") == {"en": "Treated levels", "zh-hans": "治疗节段"}[language]
        place = {"en": "Treated levels, row 2", "zh-hans": "治疗节段，第 2 行"}[language]  # noqa: RUF001
        assert path_label(form, "levels[#2].cement_volume").startswith(place)


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", f"Level T12{SEP}Cement volume"), ("zh-hans", f"节段 T12{SEP}骨水泥注入量")],
)
def test_the_error_summary_names_the_row_and_the_field(staff, participant, language, label):
    post = procedure_post(**{"levels-1-cement_volume": "25"})
    response = logged_in(staff["coordinator"], language).post(page_url(participant), post)
    assert response.status_code == 400
    summary = section(response.content.decode(), r'<ul class="crf-error-summary">.*?</ul>')
    assert label in summary
    assert not CODES.search(summary), summary


def test_queries_and_the_audit_trail_name_values_not_paths(staff, participant):
    # given an automatic query on L1's cement (12 mL: outside the expected range) and a monitor's on T12's
    coordinator = logged_in(staff["coordinator"])
    levels = (LEVEL_L1 | {"cement_volume": "12"}, LEVEL_T12)
    assert coordinator.post(page_url(participant), procedure_post(levels=levels)).status_code == 302
    record = FormRecord.objects.get()
    services.query_raise(
        actor=staff["monitor"], record=record, field_path="levels[T12].cement_volume", text="Source says 4?"
    )
    monitor = logged_in(staff["monitor"])
    # then the query list names them by row and field, and shows neither path nor check code
    listed = visible(monitor.get("/queries/").content.decode())
    assert f"Level L1{SEP}Cement volume" in listed and f"Level T12{SEP}Cement volume" in listed
    assert not CODES.search(listed), CODES.search(listed)
    # and so does the form page: the queries' summary, their headings, the warnings and the audit trail
    html = monitor.get(page_url(participant)).content.decode()
    queries = section(html, r'<div id="queries".*?</div>')
    assert f"Level L1{SEP}Cement volume" in queries and f"Level T12{SEP}Cement volume" in queries
    warnings = section(html, r'<div class="crf-warnings">.*?</div>')
    assert f"Level L1{SEP}Cement volume" in warnings
    audit = section(html, r'<section class="card" id="history".*?</section>')
    assert f"Level L1{SEP}Cement volume: ∅ → 12 mL" in audit
    assert not CODES.search(visible(html)), CODES.search(visible(html))


def test_a_query_on_a_value_no_longer_on_the_form_names_it(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    record = FormRecord.objects.get()
    services.query_raise(
        actor=staff["monitor"], record=record, field_path="levels[T12].cement_volume", text="4 mL?"
    )
    only_l1 = PROCEDURE | {"levels": PROCEDURE["levels"][:1]}
    put(clients["coordinator"], participant, only_l1, version=1)
    html = logged_in(staff["monitor"], "zh-hans").get(page_url(participant)).content.decode()
    gone = section(html, r'<div id="queries".*?</article>')
    assert f"节段 T12{SEP}骨水泥注入量" in gone and "4 mL?" in gone
    assert DataQuery.objects.get().field_path == "levels[T12].cement_volume"


def test_refusals_name_forms_and_visits(clients, participant):
    monitor = clients["monitor"]
    visit_only = monitor.get(form_url(participant, "followup_mri"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert visit_only.status_code == 400
    assert visit_only.json()["detail"] == "表单“随访脊柱MRI”在访视中采集：请从相应访视中打开。"  # noqa: RUF001
    url = f"/api/v1/participants/{participant.study_id}/visits/BL/forms/procedure/"
    not_collected = monitor.get(url)
    assert not_collected.status_code == 400
    assert not_collected.json()["detail"] == (
        "The visit “Baseline (before the procedure)” does not collect the form “Procedure”."
    )
    unknown = monitor.get(form_url(participant, "shoe_size"))
    assert unknown.json()["detail"] == "This study does not use the form “shoe_size”."
