"""The follow-up endpoints `manage.py bench` times (trial.hooks.bench_endpoints)."""

from crf.bench import bench_participant
from trial.bench import Endpoint


def bench_endpoints(*, study, site) -> list[Endpoint]:
    # The participant crf's endpoints use: the same at every size, with a procedure and so with visits.
    participant = bench_participant(site)
    endpoints = [
        Endpoint("GET", "/visits/", target=True),
        Endpoint("GET", "/api/v1/visits/?status=overdue", target=True),
        Endpoint("GET", "/api/v1/adjudication-cases/", target=True),
    ]
    if participant is None:
        return endpoints
    return [
        *endpoints,
        Endpoint("GET", f"/participants/{participant.study_id}/timeline/", target=True),
        Endpoint("GET", f"/api/v1/participants/{participant.study_id}/visits/"),
        Endpoint("GET", f"/api/v1/participants/{participant.study_id}/questionnaires/"),
    ]
