"""What `manage.py bench` times: endpoints, each with the users who request it and how to call it.

The command (trial/management/commands/bench.py) times trial's own pages; the apps built on trial add theirs
through trial.hooks.bench_endpoints.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse
from django.test import Client

USERS = ("coordinator", "monitor")


def plain_call(client: Client, endpoint: "Endpoint") -> Callable[[], HttpResponse]:
    """A GET, or a POST of the endpoint's JSON body, the same every time."""

    def call():
        if endpoint.method == "POST":
            return client.post(endpoint.url, data=json.dumps(endpoint.body), content_type="application/json")
        return client.get(endpoint.url)

    return call


@dataclass(frozen=True)
class Endpoint:
    method: str
    url: str
    body: dict | None = None
    users: tuple[str, ...] = USERS
    target: bool = False  # held to the benchmark's target ratio
    # Builds the timed call for one logged-in client (e.g. a form save that sends back the ETag it read).
    caller: Callable[[Client, "Endpoint"], Callable[[], HttpResponse]] = plain_call

    @property
    def label(self) -> str:
        return f"{self.method} {self.url}"


@dataclass(frozen=True)
class Job:
    """A background job timed by `manage.py bench` once at each size.

    `run` does the real work (timed, its queries counted); `probe` repeats its reads without writing, under
    tracemalloc for the peak memory (tracemalloc slows what it watches, so it never runs during the timing).
    """

    name: str
    run: Callable[[], object]
    probe: Callable[[], object]
    time_ratio: float = 100.0  # linear in the participants at worst
    # Flat: the job holds one batch, never the whole study, so its peak has a ceiling whatever the size (at
    # 560 the batch is not full, so a ratio to 560 would measure the batch's size, not growth).
    memory_cap_mib: float = 64.0
    # Held against another job of the same size (an export against PostgreSQL's own COPY of its rows): its
    # time at most `versus_ratio` times that job's.
    versus: str | None = None
    versus_ratio: float = 2.0
