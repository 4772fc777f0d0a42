"""The CRF endpoints `manage.py bench` times (trial.hooks.bench_endpoints)."""

import json

from django.test import Client

from trial.bench import Endpoint
from trial.models import Participant, ParticipantStatus

from .models import FormStatus

EDITED_FORM = "procedure"
CHANGE_REASON = "benchmark: operative time re-entered"


def form_put(client: Client, endpoint: Endpoint):
    """Saves that each change the data: the operative time alternates between two values, with If-Match
    from the last answer's ETag and a reason (the form may be complete or signed)."""
    read = client.get(endpoint.url)
    if read.status_code != 200:
        return lambda: read
    data = read.json()["data"]
    minutes = data.get("operative_time", 30)
    payloads = [{**data, "operative_time": minutes + 1 if minutes < 170 else minutes - 1}, data]
    state = {"etag": read["ETag"], "count": 0}

    def call():
        payload = payloads[state["count"] % 2]
        state["count"] += 1
        response = client.put(
            endpoint.url,
            data=json.dumps({"data": payload}),
            content_type="application/json",
            HTTP_IF_MATCH=state["etag"],
            HTTP_X_CHANGE_REASON=CHANGE_REASON,
        )
        state["etag"] = response.get("ETag", state["etag"])
        return response

    return call


def bench_participant(site) -> Participant | None:
    """An enrolled participant of the site whose procedure form is there and not locked: the earliest study
    ID, so that every size measures the same one (topping up adds later study IDs)."""
    return (
        Participant.objects.filter(
            site=site,
            status=ParticipantStatus.ENROLLED,
            forms__form_code=EDITED_FORM,
            forms__status__in=[s for s in FormStatus.values if s != FormStatus.LOCKED],
        )
        .order_by("study_id")
        .first()
    )


def bench_endpoints(*, study, site) -> list[Endpoint]:
    participant = bench_participant(site)
    if participant is None:
        return []
    forms = f"/api/v1/participants/{participant.study_id}/forms/"
    return [
        Endpoint("GET", f"/participants/{participant.study_id}/", target=True),
        Endpoint("GET", forms),
        Endpoint("GET", f"{forms}{EDITED_FORM}/"),
        Endpoint("PUT", f"{forms}{EDITED_FORM}/", users=("coordinator",), caller=form_put),
        Endpoint("GET", "/api/v1/queries/", target=True),
        Endpoint("GET", f"/participants/{participant.study_id}/forms/", target=True),
        # The page opens on live queries: 6 in the 560 demo, a full page of 50 at 56,000, so its default view
        # compares drawing 6 rows with drawing 50. The target is the full page at both sizes (all statuses).
        Endpoint("GET", "/queries/"),
        Endpoint("GET", "/queries/?status=all", target=True),
    ]
