"""The admin: SpineTrial's header and proper plural names in both languages, research data read-only, lists
that run a fixed number of queries, and nothing identifying or secret on its pages."""

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crf.services import crf_complete, crf_save, crf_sign, crf_verify
from followup.models import AdjudicationCase, InstrumentText, PatientLink, Visit
from followup.services.links import patient_link_issue
from followup.services.questionnaires import questionnaire_save
from followup.services.verdicts import verdict_submit
from trial.models import ParticipantIdentity, Role, Site, StaffRole

from .crf.conftest import PROCEDURE
from .factories import PASSWORD
from .followup.mri_helpers import MRI

# The procedure (2026-01-08) schedules M12 on 2027-01-08, its window from 2026-12-09 to 2027-02-07: a patient
# link for M12 can be issued on this day, after every date the data below enters.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2027-01-10 12:00")]

RESEARCH_APPS = {"trial", "crf", "followup"}
# Setup, edited in the admin: the sites and who holds which role. Everything else there is research data or
# protocol data, which change through services (with reasons) or loaders, never by hand in the admin.
EDITABLE = {Site, StaffRole}
# A Chinese character followed by an English plural "s": Django's default plural of a translated name.
ENGLISH_PLURAL = re.compile(r"[\u3400-\u9fff]s\b")


def registered() -> list[type]:
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label in RESEARCH_APPS),
        key=lambda model: model._meta.label,
    )


def url(model, view: str = "changelist", *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def chinese(client, path: str):
    return client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")


@pytest.fixture
def grow(study, make_participant, make_user):
    """Add `n` participants, each at a site of its own with its own staff, with a row in every research
    table the admin lists: a signed procedure with a data query, visits, a follow-up MRI that opened
    adjudication cases (complete: read by two adjudicators, one verdict in), a questionnaire and a patient
    link."""
    monitor = make_user("admin-monitor", role=Role.MONITOR, study=study)
    for number in (1, 2):  # two adjudicators of no site: the readers of every case
        make_user(f"admin-adj{number}", role=Role.ADJUDICATOR, study=study)
    grown = []

    def add(n: int) -> None:
        for _ in range(n):
            number = len(grown) + 1
            site = Site.objects.create(study=study, code=f"A{number}", name={"en": f"Site {number}"})
            coordinator = make_user(f"coordA{number}", role=Role.COORDINATOR, study=study, site=site)
            investigator = make_user(f"invA{number}", role=Role.INVESTIGATOR, study=study, site=site)
            participant = make_participant(actor=coordinator, on_site=site, levels=("T12", "L1"))
            # An operative time this long is a soft warning: it opens an automatic data query.
            procedure = {"actor": coordinator, "participant": participant, "form_code": "procedure"}
            record, _findings = crf_save(
                **procedure, data=PROCEDURE | {"operative_time": 200}, expected_version=None
            )
            record = crf_complete(**procedure, expected_version=record.version)
            record = crf_verify(**procedure | {"actor": monitor}, expected_version=record.version)
            crf_sign(
                **procedure | {"actor": investigator},
                username=investigator.username,
                password=PASSWORD,
                meaning="approval",
                expected_version=record.version,
            )
            m12 = Visit.objects.get(participant=participant, code="M12")
            mri = {
                "actor": coordinator,
                "participant": participant,
                "form_code": "followup_mri",
                "visit": m12,
            }
            record, _findings = crf_save(**mri, data=MRI, expected_version=None)
            crf_complete(**mri, expected_version=record.version)  # its cases go to two readers
            case = AdjudicationCase.objects.filter(participant=participant).first()
            reader = case.assignments.get(slot="first").reader
            verdict_submit(
                actor=reader,
                case=case,
                username=reader.username,
                password=PASSWORD,
                fracture=False,
                confidence="high",
            )
            questionnaire_save(
                actor=coordinator,
                participant=participant,
                visit=Visit.objects.get(participant=participant, code="BL"),
                instrument="vas",
                answers={"pain": 40},
                source="paper",
                language="en",
                expected_version=None,
            )
            patient_link_issue(actor=coordinator, visit=m12, instrument="vas", language="en")
            grown.append(participant)

    return add


def test_every_research_model_is_listed_and_identity_is_not():
    names = {model._meta.label for model in registered()}
    assert {
        "followup.Visit",
        "followup.QuestionnaireResponse",
        "followup.PatientLink",
        "followup.AdjudicationCase",
        "followup.InstrumentText",
    } <= names
    assert ParticipantIdentity not in admin.site._registry


def test_the_chinese_admin_has_its_own_header_and_no_english_plurals(admin_client, grow, odi_wording):
    grow(1)
    pages = [reverse("admin:index")]
    pages += [reverse("admin:app_list", args=[label]) for label in sorted(RESEARCH_APPS)]
    pages += [url(model) for model in registered()]
    for path in pages:
        response = chinese(admin_client, path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "SpineTrial 管理" in html, path
        assert "Django" not in html, path
        assert not ENGLISH_PLURAL.findall(html), (path, ENGLISH_PLURAL.findall(html))
    index = chinese(admin_client, reverse("admin:index")).content.decode()
    for name in ("受试者", "访视", "问卷回答", "患者链接", "裁定病例", "量表文本"):
        assert f">{name}</a>" in index, name


def test_the_english_admin_says_spinetrial_and_plural_names(admin_client):
    html = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "SpineTrial administration" in html and "Django" not in html
    plurals = ("Participants", "Visits", "Questionnaire responses", "Patient links", "Adjudication cases")
    for plural in plurals:
        assert f">{plural}</a>" in html, plural


def test_research_models_refuse_add_change_and_delete(admin_client, grow, odi_wording):
    grow(1)
    readonly = [model for model in registered() if model not in EDITABLE]
    assert len(readonly) >= 12
    for model in readonly:
        row = model.objects.first()
        assert row is not None, model
        listing = admin_client.get(url(model)).content.decode()
        assert url(model, "add") not in listing, model
        assert admin_client.get(url(model, "add")).status_code == 403, model
        assert admin_client.post(url(model, "add"), {}).status_code == 403, model
        change = url(model, "change", row.pk)
        detail = admin_client.get(change)
        assert detail.status_code == 200, model
        assert 'name="_save"' not in detail.content.decode(), model
        assert url(model, "delete", row.pk) not in detail.content.decode(), model
        posted = admin_client.post(change, {"_save": "Save"})
        assert posted.status_code == 403, model
        assert admin_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403, model
        assert model.objects.filter(pk=row.pk).exists(), model
        bulk = admin_client.post(url(model), {"action": "delete_selected", "_selected_action": [row.pk]})
        assert model.objects.filter(pk=row.pk).exists() and bulk.status_code in (200, 302), model


def test_the_changelists_run_a_fixed_number_of_queries_as_rows_grow(admin_client, grow, odi_wording):
    def counts() -> dict[str, int]:
        found = {}
        for model in registered():
            with CaptureQueriesContext(connection) as queries:
                response = admin_client.get(url(model))
            assert response.status_code == 200, model
            found[model._meta.label] = len(queries)
        return found

    grow(1)
    few = counts()
    grow(3)
    assert counts() == few


def test_patient_link_pages_never_show_the_key_hash(admin_client, grow):
    grow(1)
    link = PatientLink.objects.get()
    listing = admin_client.get(url(PatientLink)).content.decode()
    assert link.response.participant.study_id in listing
    detail = admin_client.get(url(PatientLink, "change", link.pk)).content.decode()
    assert str(link.response) in detail
    for html in (listing, detail):
        assert link.key_sha256 not in html and "key_sha256" not in html


def test_instrument_text_pages_show_which_file_and_not_the_wording(admin_client, odi_wording):
    text: InstrumentText = odi_wording["zh-hans"]
    section = text.content["sections"][0]
    wording = [text.content["title"], text.content["instructions"], section["title"], *section["statements"]]
    for path in (url(InstrumentText), url(InstrumentText, "change", text.pk)):
        html = admin_client.get(path).content.decode()
        assert text.source_sha256 in html and text.instrument_version in html
        assert not [title for title in wording if title in html], path
