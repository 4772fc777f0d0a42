"""The permission matrix walk's world (tests/test_permission_matrix.py): one seeded study with a record
behind every URL, a user for each persona the matrix names, and the URL of every pattern with real values.

Built once per module inside a transaction that is rolled back at the end; each test runs in a savepoint of
it (pytest-django's `db`), so a write an allowed persona makes is undone before the next test.
"""

import datetime
import json
from dataclasses import dataclass

import time_machine
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from crf.models import DataQuery, FormRecord
from crf.services import query_raise
from followup.messaging.models import OutboxMessage
from followup.models import AdjudicationCase, CaseAssignment, Visit
from followup.services import links
from followup.services.questionnaires import questionnaire_save
from reports.indextests.services import heatmap_attach, model_outputs_import
from reports.models import Job, JobStatus, RiskValidation
from trial.models import Role, Site
from trial.services import participant_enroll, screening_create

from .conftest import ELIGIBLE_ANSWERS, client_for, load_study
from .crf.conftest import PROCEDURE, put
from .factories import StaffRoleFactory, UserFactory
from .followup.mri_helpers import MRI, make_visit, put_mri
from .reports.indextests.pictures import png
from .reports.riskmodel.workbench import stored_model

# What the refused answers must never show: the participant's identifying data and study ID.
FULL_NAME = "Matrix Person"
PHONE = "13912345678"


@dataclass(frozen=True)
class Route:
    name: str  # with its namespaces ("api:participant-detail"); "admin:None" for the admin's unnamed ones
    route: str  # the pattern's text, prefixes included
    params: frozenset[str]
    callback: object


def routes(patterns=None, prefix: str = "", namespace: str = ""):
    """Every URL pattern of the URL configuration, recursively, as a Route."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            params = set(pattern.pattern.regex.groupindex) | set(getattr(pattern.pattern, "converters", {}))
            yield Route(f"{namespace}{pattern.name}", prefix + str(pattern.pattern), frozenset(params),
                        pattern.callback)  # fmt: skip


def _user(username: str, role: str | None = None, *, study=None, site=None, **extra):
    user = UserFactory(username=username, **extra)
    if role:
        StaffRoleFactory(user=user, study=study or site.study, site=site, role=role)
    return user


def build_world() -> dict:
    """The study, its records and the personas' users (see the module's docstring)."""
    study = load_study("NCT06379243")
    site = study.sites.get(code="07")
    other = Site.objects.create(study=study, code="91", name={"en": "Other site", "zh-hans": "另一中心"})
    coordinator = _user("m-coord07", Role.COORDINATOR, site=site)
    users = {
        "coordinator": coordinator,
        "coordinator_other_site": _user("m-coord91", Role.COORDINATOR, site=other),
        "investigator": _user("m-inv07", Role.INVESTIGATOR, site=site),
        "principal_investigator": _user("m-pi", Role.PRINCIPAL_INVESTIGATOR, study=study),
        "monitor": _user("m-monitor", Role.MONITOR, study=study),
        "data_manager": _user("m-dm", Role.DATA_MANAGER, study=study),
        "adjudicator": _user("m-adj", Role.ADJUDICATOR, study=study),
        "superuser": _user("m-root", is_superuser=True, is_staff=True),
    }
    with time_machine.travel(datetime.datetime(2027, 1, 10, 4, tzinfo=datetime.UTC), tick=False):
        screening = screening_create(
            actor=coordinator,
            study=study,
            site=site,
            data={"screening_date": datetime.date(2026, 1, 5), "age": 87, "sex": "female",
                  "fracture_levels": ["T12", "L1"], "answers": ELIGIBLE_ANSWERS},
        )  # fmt: skip
        participant = participant_enroll(
            actor=coordinator,
            screening=screening,
            consent_date=datetime.date(2026, 1, 6),
            enrollment_date=datetime.date(2026, 1, 7),
            identity={"full_name": FULL_NAME, "phone": PHONE},
        )
        api = client_for(coordinator)
        assert put(api, participant, PROCEDURE | {"operative_time": 200}).status_code == 200
        m12 = make_visit(participant)
        assert put_mri(api, participant, MRI).status_code == 200
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
        query = DataQuery.objects.get(record__form_code="procedure")  # its automatic query (operative time)
        visit_query = query_raise(
            actor=users["monitor"],
            record=FormRecord.objects.get(participant=participant, form_code="followup_mri"),
            field_path="field_strength",
            text="Which scanner?",
        )
        link, token = links.patient_link_issue(actor=coordinator, visit=m12, instrument="vas", language="en")
        message = OutboxMessage.objects.create(
            key="matrix", kind="reminder", channel="sms", participant=participant, visit=m12,
            instrument="vas", step="open+0", language="en", state="unconfirmed", due_at=timezone.now(),
        )  # fmt: skip
        job = Job.objects.create(
            study=study, kind="interim_report", trigger="on_demand", status=JobStatus.DONE,
            requested_by=users["principal_investigator"], file_name="report.pdf",
            content_type="application/pdf", finished_at=timezone.now(),
        )  # fmt: skip
        job.file.save("matrix-report.pdf", ContentFile(b"%PDF-1.4 matrix"), save=True)
        # A model's output for the participant's T12, with its heatmap (reports/indextests).
        csv = f"study_id,level,model,version,split,probability\n{participant.study_id},T12,ViT,1.0,test,0.8\n"
        (model_import,) = model_outputs_import(study=study, actor=users["data_manager"], content=csv.encode())
        output = heatmap_attach(output=model_import.outputs.get(), actor=users["data_manager"], content=png())
        # A frozen risk model and a validation of it (reports/riskmodel), as their jobs make them.
        risk_model = stored_model(study, users["principal_investigator"], frozen=True)
        risk_validation = RiskValidation.objects.create(
            risk_model=risk_model, source="import", cut_sha256="d" * 64, file_name="cohort.csv", result={},
            job=stored_model(study, users["principal_investigator"], name="other").job,
            created_at=timezone.now(), created_by=users["principal_investigator"],
        )  # fmt: skip
    case = AdjudicationCase.objects.filter(participant=participant).first()
    return {
        "study": study,
        "site": site,
        "participant": participant,
        "screening": screening,
        "query": query,
        "visit_query": visit_query,
        "case": case,
        "link": link,
        "token": token,
        "message": message,
        "job": job,
        "model_import": model_import,
        "model_output": output,
        "risk_model": risk_model,
        "risk_validation": risk_validation,
        "users": users,
    }


def kwargs_for(route: Route, world: dict) -> dict:
    """A real value for each parameter of a route, from the world's records."""
    text = route.route
    participant = world["participant"]
    if "screenings" in text:
        pk = world["screening"].pk
    elif "adjudication" in text:
        pk = world["case"].pk
    elif "messages" in text:
        pk = world["message"].pk
    elif "risk-models/jobs" in text:
        pk = world["risk_model"].job_id
    elif "risk-models/" in text:
        pk = world["risk_model"].pk
    elif "risk-validations" in text:
        pk = world["risk_validation"].pk
    elif "jobs" in text:
        pk = world["job"].pk
    elif "heatmap" in text:
        pk = world["model_output"].pk
    elif "model-imports" in text or "model-outputs" in text:
        pk = world["model_import"].pk
    elif "two-factor" in text:
        pk = world["users"]["coordinator"].pk  # whose second factor a data manager resets
    elif "visits" in text:
        pk = world["visit_query"].pk
    else:
        pk = world["query"].pk
    visit_route = "visits" in text
    values = {
        "study_id": participant.study_id,
        "form_code": "followup_mri" if visit_route else "procedure",
        "visit_code": "M12",
        "code": "M12" if visit_route else world["study"].code,
        "instrument": "vas",
        "step": "complete",
        "pk": pk,
        "link_id": world["link"].pk,
        "token": world["token"],
        "object_id": str(world["screening"].pk),
        "app_label": "trial",
        "content_type_id": "1",
        "url": "trial/",
        "channel": "sms",
        "id": str(world["users"]["coordinator"].pk),
        "evidence_id": world["case"].evidence.first().pk,
        "what": "model",  # a risk model's JSON download
    }
    if "reading_code" in route.params:
        # The adjudicator's own code for the case (the walk assigns them to it); another code names nothing.
        assigned = CaseAssignment.objects.filter(case=world["case"], active=True)
        values["reading_code"] = assigned.values_list("reading_code", flat=True).first() or "ZZZZZZZ"
    missing = route.params - set(values)
    assert not missing, f"{text}: give the walk a value for {sorted(missing)}"
    return {name: values[name] for name in route.params}


def url_for(route: Route, world: dict) -> str:
    if route.name.endswith(":None"):
        # The admin's unnamed patterns: its redirects to an object's change page, and its catch-all.
        return "/" + route.route.replace("<path:object_id>", str(world["screening"].pk)).replace(
            "(?P<url>.*)$", "no-such-page/"
        )
    return reverse(route.name, kwargs=kwargs_for(route, world))


def leaks(response, world: dict, url: str = "") -> list[str]:
    """What of the participant's identity or research data a response shows (the URL asked for, which a page
    repeats in its language switcher, aside)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    if url:
        text = text.replace(url, "")
    participant = world["participant"]
    found = [value for value in (FULL_NAME, PHONE, participant.study_id, "Dr Demo") if value in text]
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        rows = data.get("results", data) if isinstance(data, dict) else data
        if isinstance(rows, list) and rows:
            found.append(f"{len(rows)} rows")
    return found
