"""Seed what the load needs and describe it in the plan the locust process reads (JSON, no Django there).

Coordinators: `users` accounts (load-coord-NNN) spread over the study's active sites, each with an API token
and no usable password. Forms: per site a few enrolled participants whose procedure form is there and not
locked; the site's coordinators all edit the same ones, so saves contend and the If-Match check is exercised.
Patients: live VAS links at pending visits (VAS has no licensed wording to load), each answered from an
address of its own. The plan holds the links' tokens: it lives in the run's private directory and run.py
deletes it when the load is over; the acknowledgements name links by id only.
"""

import time

from django.contrib.auth import get_user_model
from django.db import transaction
from knox.models import AuthToken

from crf.bench import EDITED_FORM
from crf.models import FormRecord, FormStatus
from followup.models import Visit, VisitState
from followup.services.links import patient_link_issue
from trial import hooks
from trial.demo import criteria_specs, demo_seed
from trial.errors import DomainError
from trial.models import Participant, ParticipantStatus, Role, StaffRole, Study

FORMS_PER_SITE = 5  # few, so that the coordinators of a site meet on them (stale If-Match: 409, re-read)
DEMO_PARTICIPANTS = 560  # the demo's size, when the study has nobody yet (a bare `make bench` of the load)
GUESSER_ADDRESS = "198.51.100.66"  # documentation addresses (RFC 5737): never a real client's


def patient_address(index: int) -> str:
    return f"10.77.{index // 250}.{index % 250 + 1}"


def plan_build(
    *, study_code: str, users: int, patients: int, demo_participants: int = DEMO_PARTICIPANTS
) -> dict:
    """Seed the study when it is empty (the demo's `demo_participants`), add the load's coordinators and
    links; the plan as a dict."""
    study = Study.objects.select_related("current_version").get(code=study_code)
    seeded = _seed_if_empty(study, demo_participants)
    sites = list(study.sites.filter(active=True).order_by("code"))
    coordinators, by_site = _coordinators(study, sites, max(users, len(sites)))
    criteria = criteria_specs(study.current_version)
    return {
        "study": study.code,
        "seeded": seeded,
        "coordinators": coordinators,
        "forms": {site.code: _forms(site) for site in sites},
        "form": EDITED_FORM,
        "screening": {
            "age": 72,
            "sex": "female",
            "fracture_levels": ["L1"],
            "answers": {c.code: c.kind == "inclusion" for c in criteria if not c.computed},
        },
        "patients": _links(study, by_site, patients),
        "guesser": GUESSER_ADDRESS,
    }


def _seed_if_empty(study: Study, participants: int) -> dict:
    if Participant.objects.filter(site__study=study).exists():
        return {}
    started = time.perf_counter()
    result = demo_seed(study=study, participants=participants, seed=1)
    counts = {"participants": result.participants if result else 0}
    for stage in hooks.demo_stages:
        counts |= stage(study=study, seed=1).counts
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _coordinators(study: Study, sites, count: int) -> tuple[list[dict], dict]:
    users = get_user_model().objects
    coordinators, by_site = [], {}
    with transaction.atomic():  # one commit for the accounts, roles and tokens (a test's seed is re-run)
        for index in range(count):
            site = sites[index % len(sites)]
            user, created = users.get_or_create(
                username=f"load-coord-{index:03d}", defaults={"first_name": "Load", "last_name": f"{index}"}
            )
            if created:
                user.set_unusable_password()  # the API token is its only way in
                user.save(update_fields=["password"])
            StaffRole.objects.get_or_create(user=user, study=study, site=site, role=Role.COORDINATOR)
            # A knox token lives API_TOKEN_HOURS: long enough for a run; a new one each plan.
            _token, secret = AuthToken.objects.create(user=user)
            coordinators.append(
                {"user": user.get_username(), "token": secret, "site": site.code, "zone": site.time_zone}
            )
            by_site.setdefault(site.pk, user)
    return coordinators, by_site


def _forms(site) -> list[str]:
    """Study IDs of the site's first enrolled participants whose edited form exists and is not locked."""
    return list(
        FormRecord.objects.filter(
            participant__site=site,
            participant__status=ParticipantStatus.ENROLLED,
            form_code=EDITED_FORM,
            visit_code="",
        )
        .exclude(status=FormStatus.LOCKED)
        .order_by("participant__study_id")
        .values_list("participant__study_id", flat=True)[:FORMS_PER_SITE]
    )


def _links(study: Study, by_site: dict, patients: int) -> list[dict]:
    links = []
    visits = (
        Visit.objects.filter(
            participant__site__study=study,
            participant__status=ParticipantStatus.ENROLLED,
            state=VisitState.PENDING,
            questionnaires__contains=["vas"],
        )
        .select_related("participant__site")
        .order_by("pk")
    )
    for visit in visits.iterator():
        if len(links) >= patients:
            break
        issuer = by_site.get(visit.participant.site_id)
        if issuer is None:
            continue
        try:
            link, token = patient_link_issue(actor=issuer, visit=visit, instrument="vas", language="zh-hans")
        except DomainError:  # already answered, say: another visit will do
            continue
        links.append({"link": link.pk, "token": token, "address": patient_address(len(links))})
    return links
