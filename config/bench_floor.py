"""The load test's floor: a bare authenticated DRF endpoint that runs no query beyond authentication.

Routed only when settings.BENCH_FLOOR_ENDPOINT is on (loadtest/run.py sets it for its own gunicorn), so a
production server never has it. Its latency is what any API request costs on the same server before it does
any work of its own: DRF, the middleware and the token's lookup.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView


class FloorView(APIView):
    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"ok": True})
