"""The follow-up endpoints `manage.py bench` times (trial.hooks.bench_endpoints)."""

from crf.bench import bench_participant
from trial.bench import USERS, Endpoint, Job

from .messaging.sweep import reminders_sweep


def bench_endpoints(*, study, site) -> list[Endpoint]:
    # The participant crf's endpoints use: the same at every size, with a procedure and so with visits.
    participant = bench_participant(site)
    endpoints = [
        Endpoint("GET", "/visits/", target=True),
        Endpoint("GET", "/api/v1/visits/?status=overdue", target=True),
        Endpoint("GET", "/api/v1/adjudication-cases/", users=(*USERS, "data_manager"), target=True),
        # The case board: its first page and the counts of its tabs.
        Endpoint("GET", "/adjudication/cases/", users=("monitor", "data_manager"), target=True),
        # The adjudicator's queue (its tab of cases to read, and the counts of every tab).
        Endpoint("GET", "/adjudication/", users=("adjudicator",), target=True),
        Endpoint("GET", "/api/v1/adjudication/queue/?bucket=final", users=("adjudicator",), target=True),
        Endpoint("GET", "/api/v1/adjudication/queue/counts/", users=("adjudicator",), target=True),
        # The endpoint's first page, and reader agreement over every verdict (linear in the cases).
        Endpoint("GET", f"/api/v1/studies/{study.code}/endpoint/", users=("principal_investigator",)),
        Endpoint(
            "GET", f"/api/v1/studies/{study.code}/adjudication-agreement/", users=("principal_investigator",)
        ),
    ]
    if participant is None:
        return endpoints
    return [
        *endpoints,
        Endpoint("GET", f"/participants/{participant.study_id}/timeline/", target=True),
        Endpoint("GET", f"/api/v1/participants/{participant.study_id}/visits/"),
        Endpoint("GET", f"/api/v1/participants/{participant.study_id}/questionnaires/"),
    ]


def bench_jobs(*, study) -> list[Job]:
    """trial.hooks.bench_jobs: the daily reminder sweep over the study's participants."""
    return [
        Job(
            name="reminders_sweep (plans today's reminders)",
            run=lambda: reminders_sweep(study=study.code),
            probe=lambda: reminders_sweep(study=study.code, dry_run=True),
        )
    ]
