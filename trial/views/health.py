from django.db import connection
from django.http import JsonResponse

from .. import hooks


def _reports() -> tuple[dict, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    reports = hooks.health_checks()
    problems = [report.problem for report in reports if report.problem]
    body = {report.name: report.figures for report in reports}
    return body, problems


def health(request):
    """Liveness and database reachability, for load balancers and `make run`: 200 whenever the web can
    answer, with the parts registered on hooks.health_checks (followup: the outbox dispatch) as figures and
    their problems as "warnings". A stalled background worker must not take healthy web nodes out of a load
    balancer (patients could not open their links): it is judged at /healthz/worker."""
    body, problems = _reports()
    return JsonResponse({"status": "ok", **body, "warnings": problems})


def health_worker(request):
    """The background work, for monitors and watchdogs: 200 {"status": "ok", <part>: {figures}} while every
    registered part is healthy; 503 with "status": "unhealthy" and a one-line "reason" (the parts' problems
    joined) otherwise."""
    body, problems = _reports()
    if problems:
        return JsonResponse({"status": "unhealthy", "reason": "; ".join(problems), **body}, status=503)
    return JsonResponse({"status": "ok", **body})
