"""Extension points: where a higher app (crf, followup, reports) acts inside trial's own work.

Apps depend downward only (trial <- crf <- followup <- reports). When trial must let a higher app act (a
baseline visit at enrollment, the `forms:` and `visits:` sections of a protocol file, a dashboard panel, the
demo data and the benchmark), it calls the callables registered on a `Hook` here; the higher app registers
them in its AppConfig.ready(). A call is explicit and shows in a stack trace, runs inside the caller's
transaction, and a missing registration shows in tests (tests/test_layering.py). No Django signals.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

F = TypeVar("F", bound=Callable)


class Hook(Generic[F]):
    """A named list of callables with one documented signature, called in registration order."""

    def __init__(self, name: str, doc: str):
        self.name, self.__doc__ = name, doc
        self._callables: list[F] = []

    def register(self, function: F) -> F:
        """Add a callable, once (ready() may run twice in some test set-ups). Usable as a decorator."""
        if function not in self._callables:
            self._callables.append(function)
        return function

    def __iter__(self) -> Iterator[F]:
        return iter(tuple(self._callables))

    def __len__(self) -> int:
        return len(self._callables)

    def __call__(self, **kwargs) -> list:
        """Call every registered callable with the same keyword arguments; their answers, in order."""
        return [function(**kwargs) for function in self._callables]

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._callables)} registered>"


participant_status_changed: Hook[Callable[..., None]] = Hook(
    "participant_status_changed",
    "f(*, participant, actor) -> None. A participant was enrolled, withdrew, died, was lost to follow-up or "
    "was reinstated; runs inside the service's transaction with the participant's row locked.",
)

protocol_sections: Hook[Callable[[], dict]] = Hook(
    "protocol_sections",
    "f() -> {section key: type}. The sections of a protocol file that a higher app reads (crf: forms, "
    "followup: visits), each declared as a type that pydantic validates strictly: a trial.schema.StrictModel "
    "or an Annotated type (trial/schema.py has the shared parts and the wording of problems). "
    "trial.protocol_schema joins them to its own keys into one model, so one pass lists every problem of "
    "the file; a section may be left out of a file, but one that is there is checked. A section's "
    "validators find the whole file as parsed in info.context['protocol'] (the visits' anchors read the "
    "protocol's forms there). Return the same type objects on every call (module constants): the joined "
    "model is built once per set of sections.",
)

dashboard_panels: Hook[Callable[..., dict | None]] = Hook(
    "dashboard_panels",
    "f(*, user) -> {'template': name, ...context} | None. A panel of the dashboard for this user, drawn "
    "with its own template and a fixed number of queries; None draws nothing.",
)


@dataclass(frozen=True)
class DemoAdded:
    """What a demo stage added: one line for seed_demo's output, and counts for the benchmark's table."""

    name: str  # the app's, e.g. "crf": names its figures in the benchmark's output
    line: str
    counts: dict[str, float] = field(default_factory=dict)


demo_stages: Hook[Callable[..., DemoAdded]] = Hook(
    "demo_stages",
    "f(*, study, seed) -> DemoAdded. Demo data a higher app adds after trial's screenings and enrollment "
    "(seed_demo, bench), in registration order (crf, then followup); idempotent.",
)

bench_endpoints: Hook[Callable[..., list]] = Hook(
    "bench_endpoints",
    "f(*, study, site) -> list[trial.bench.Endpoint]. Endpoints a higher app adds to `manage.py bench`.",
)

bench_jobs: Hook[Callable[..., list]] = Hook(
    "bench_jobs",
    "f(*, study) -> list[trial.bench.Job]. Background jobs (e.g. followup's reminder sweep) a higher app "
    "adds to `manage.py bench`: timed, their queries counted and their peak memory measured at each size.",
)

page_answers: Hook[Callable[..., object]] = Hook(
    "page_answers",
    "f(request, error) -> HttpResponse | None. The page for a domain error the registering app knows (e.g. "
    "followup's dead patient link; trial/pages.py); None leaves it to the next one, then to the plain page.",
)

menu_items: Hook[Callable[..., list]] = Hook(
    "menu_items",
    "f() -> list[trial.navigation.MenuItem]. An app's items of the main menu, each with the roles that open "
    "it (trial/navigation.py); trial registers its own too.",
)


@dataclass(frozen=True)
class HealthReport:
    """One part's answer for /healthz: its figures under `name` (JSON values), and its problem in one line
    ("" when healthy; any problem is a warning on /healthz and a 503 on /healthz/worker)."""

    name: str
    figures: dict = field(default_factory=dict)
    problem: str = ""


health_checks: Hook[Callable[[], HealthReport]] = Hook(
    "health_checks",
    "f() -> HealthReport. A part whose health /healthz reports (followup: the outbox dispatch's heartbeat). "
    "Polled by load balancers and watchdogs: read-only, a fixed number of queries, no call to the broker.",
)

api_path_codes: Hook[Callable[..., dict]] = Hook(
    "api_path_codes",
    "f(*, path) -> {path parameter name: [codes]}. The codes a path parameter of an API operation (its URL "
    "template `path`) takes, from the protocols loaded (crf: form_code), for the schema's enum; read when "
    "the schema is generated. A value outside them is refused by the view (400 naming it, or 404).",
)
