from django.db import connection
from django.http import JsonResponse

from .. import hooks


def health(request):
    """Liveness, database reachability and the parts registered on hooks.health_checks (followup: whether the
    outbox dispatch keeps finishing its runs), for load balancers, watchdogs and `make run`.

    200 {"status": "ok", <part>: {figures}} when every part is healthy; 503 with "status": "unhealthy" and a
    one-line "reason" (the parts' problems joined) otherwise.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    reports = hooks.health_checks()
    problems = [report.problem for report in reports if report.problem]
    body = {"status": "unhealthy" if problems else "ok"}
    if problems:
        body["reason"] = "; ".join(problems)
    body.update((report.name, report.figures) for report in reports)
    return JsonResponse(body, status=503 if problems else 200)
