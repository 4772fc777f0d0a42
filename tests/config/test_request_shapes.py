"""Request shapes that used to answer 500, sent to every write endpoint the URL resolver knows.

A JSON body nested deeper than json's recursion limit, and a lone surrogate ("\\ud800") in a key or a value,
must answer 400 with a message (the API) or at least never 500 (pages), and save nothing. The endpoints are
read from config.urls, not listed by hand: a new write endpoint is swept as soon as it is routed, and one
whose URL needs a value this module cannot supply fails the sweep until a value is added to `url_value`.
"""

import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern
from django.utils import timezone, translation
from rest_framework.exceptions import ParseError

from followup.messaging.models import OutboxMessage
from followup.services.links import patient_link_issue
from trial.apis.parsers import MAX_DEPTH, JSONParser, json_shape_check
from trial.apis.renderers import JSONRenderer

from ..conftest import client_for, open_visit
from ..crf.conftest import PROCEDURE

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
SURROGATE = "\ud800"
# json.dumps escapes a lone surrogate as \ud800, which is exactly what a client sends on the wire.
BODIES = {
    "deeply nested": '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "lone surrogate in a key": json.dumps({SURROGATE: 1, f"data{SURROGATE}": {SURROGATE: True}}),
    "lone surrogate in a value": json.dumps(
        dict.fromkeys(
            ("username", "password", "sex", "meaning", "language", "reason", "date", "text", "action",
             "instrument", "field", "consent_date", "full_name", "study", "site", "code"),
            SURROGATE,
        )
        | {"data": {"technique": SURROGATE, "levels": [{"level": SURROGATE}]}, "answers": [SURROGATE]}
    ),
}  # fmt: skip


# --- the endpoints, from the resolver -----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    route: str  # the pattern chain, for messages
    url: str
    methods: tuple[str, ...]
    callback: object

    @property
    def api(self) -> bool:
        return self.url.startswith("/api/")


def _leaves(patterns, chain=()) -> Iterator[tuple[tuple, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _leaves(pattern.url_patterns, (*chain, pattern.pattern))
        else:
            yield (*chain, pattern.pattern), pattern


def write_methods(callback) -> tuple[str, ...]:
    """The write methods a view answers: a viewset's routed actions, a class's handlers; a function view
    declares none, so it gets every write method."""
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(m for m in WRITE_METHODS if m in actions)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        allowed = getattr(view_class, "http_method_names", WRITE_METHODS)
        return tuple(m for m in WRITE_METHODS if m in allowed and hasattr(view_class, m))
    return WRITE_METHODS


GROUP = re.compile(r"\(\?P<(\w+)>((?:[^()\\]|\\.)*)\)")
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
LITERALS = re.compile(r"[\w-]+(?:\|[\w-]+)+")


def _fill(chain: tuple, values) -> list[str]:
    """Concrete paths for a pattern chain; a regex group that lists literals (a|b|c) gives one path each."""
    paths = [""]
    for pattern in chain:
        text = str(pattern)
        pieces: list[list[str]] = []
        if isinstance(pattern, RegexPattern):
            position = 0
            text = text.removeprefix("^").removesuffix("$")
            for match in GROUP.finditer(text):
                pieces.append([_unescape(text[position : match.start()])])
                name, body = match.groups()
                before = "".join(p[0] for p in pieces)
                pieces.append(
                    body.split("|") if LITERALS.fullmatch(body) else [values(name, paths[0] + before)]
                )
                position = match.end()
            pieces.append([_unescape(text[position:])])
        else:
            position = 0
            for match in CONVERTER.finditer(text):
                pieces.append([text[position : match.start()]])
                before = "".join(p[0] for p in pieces)
                pieces.append([values(match.group(2), paths[0] + before)])
                position = match.end()
            pieces.append([text[position:]])
        for choices in pieces:
            paths = [path + choice for path in paths for choice in choices]
    return ["/" + path for path in paths]


def _unescape(text: str) -> str:
    return text.replace("/?", "/").replace("\\.", ".").replace("\\", "")


def endpoints(values) -> list[Endpoint]:
    """Every routed view that takes a write method, with a concrete URL that resolves back to it."""
    found = []
    for chain, pattern in _leaves(get_resolver().url_patterns):
        methods = write_methods(pattern.callback)
        if not methods:
            continue
        for url in _fill(chain, values):
            match = resolve(url)
            assert match.func == pattern.callback, f"{url} (from {chain}) resolves to {match.view_name}"
            found.append(Endpoint(" ".join(map(str, chain)), url, methods, pattern.callback))
    return found


# --- data the URLs name, so that each view gets as far as reading its body ----------------------------------


@pytest.fixture
def world(make_participant, make_screening, coordinator, admin_user, odi_wording):
    participant = make_participant()
    screening = make_screening(levels=("T12",))  # eligible, not enrolled
    visit = open_visit(participant, forms=["followup_mri"])
    # A soft warning (cement volume above 10 mL) opens an automatic data query.
    big = PROCEDURE | {"levels": [PROCEDURE["levels"][0] | {"cement_volume": 12.5}]}
    saved = client_for(coordinator).put(
        f"/api/v1/participants/{participant.study_id}/forms/procedure/", {"data": big}, format="json"
    )
    assert saved.status_code in (200, 201), saved.content
    query = participant.forms.get(form_code="procedure").queries.get()
    link, token = patient_link_issue(actor=coordinator, visit=visit, instrument="odi", language="en")
    # A reminder whose outcome is unknown: the one a confirm or a resend acts on.
    message = OutboxMessage.objects.create(
        key="reminder:shapes",
        kind="reminder",
        channel="sms",
        participant=participant,
        visit=visit,
        instrument="odi",
        step="open+0",
        language="en",
        state="unconfirmed",
        due_at=timezone.now(),
    )
    return {
        "message": message,
        "participant": participant,
        "screening": screening,
        "visit": visit,
        "query": query,
        "link": link,
        "token": token,
        "admin": admin_user,
        "coordinator": coordinator,
    }


def url_values(world):
    """The value of a URL argument, by its name and the path before it."""
    participant, visit = world["participant"], world["visit"]

    def value(name: str, before: str) -> str:
        segment = before.rstrip("/").rsplit("/", 1)[-1]
        by_place = {
            ("code", "studies"): participant.site.study.code,
            ("code", "visits"): visit.code,
            ("pk", "screenings"): str(world["screening"].pk),
            ("pk", "queries"): str(world["query"].pk),
            ("pk", "messages"): str(world["message"].pk),
            # Adjudication cases (pages and API) and a reader's queue: any id (the body is refused first,
            # and a case the user cannot read is a 404 page).
            ("pk", "cases"): "1",
            ("pk", "adjudication-cases"): "1",
            ("pk", "queue"): "1",
            ("evidence_id", "evidence"): "1",
            ("pk", "adjudication"): "1",
            # A report's job (pages): any id (a job the user cannot read is a 404 page).
            ("pk", "jobs"): "1",
            # A model-output import and a vertebra's heatmap (pages): any id (a missing one is a 404 page).
            ("pk", "model-outputs"): "1",
            ("pk", "vertebrae"): "1",
            # A user whose second factor is reset (trial/views/twofactor.py): any id (one the actor may not
            # reset is a 404 page).
            ("pk", "reset"): "1",
            # A risk model (API and pages): any id (a missing one is a 404).
            ("pk", "risk-models"): "1",
            ("pk", "risk-validations"): "1",
        }
        by_name = {
            "study_id": participant.study_id,
            "visit_code": visit.code,
            "form_code": "followup_mri" if "/visits/" in f"/{before}" else "procedure",
            "instrument": "odi",
            "channel": "sms",
            "token": world["token"],
            "link_id": str(world["link"].pk),
            "evidence_id": "1",
            "format": "json",
            # The admin's generated URLs: any object id (a missing one answers like a present one here).
            "object_id": str(world["admin"].pk),
            "id": str(world["admin"].pk),
            "content_type_id": "1",
            "url": "nowhere/",
            # A reader's case by its reading code: any well-formed code (one not the reader's is a 404).
            "reading_code": "ABCDEFG",
            "what": "model",  # a risk model's JSON download
        }
        if (name, segment) in by_place:
            return by_place[(name, segment)]
        if name in by_name:
            return by_name[name]
        pytest.fail(f"A write endpoint's URL needs <{name}> after {before!r}: give it a value in url_value.")

    return value


# --- what must hold ----------------------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    """Rows of every table: audit events included, so an update shows too (their tables are append-only)."""
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT %s, count(*) FROM {connection.ops.quote_name(table)}"  # noqa: S608 -- table names
                for table in tables
            ),
            tables,
        )
        return dict(cursor.fetchall())


def send(client: Client, method: str, url: str, body: str):
    return getattr(client, method)(url, data=body, content_type="application/json")


def test_bad_json_bodies_answer_400_on_every_write_endpoint_and_save_nothing(world):
    every = endpoints(url_values(world))
    urls = {endpoint.url for endpoint in every}
    participant = world["participant"]
    # The sweep reaches the endpoints that used to fail, whatever else is routed.
    assert {
        "/api/v1/auth/token/",
        f"/api/v1/patient/{world['token']}/",
        "/api/v1/screenings/",
        f"/api/v1/participants/{participant.study_id}/forms/procedure/",
        f"/p/{world['token']}/",
        "/login/",
    } <= urls
    staff = Client(raise_request_exception=False)
    staff.force_login(world["coordinator"])
    admin = Client(raise_request_exception=False)
    admin.force_login(world["admin"])
    anonymous = Client(raise_request_exception=False)
    before = row_counts()
    wrong = []
    for endpoint in every:
        writer = admin if endpoint.url.startswith("/admin/") else staff
        for who, client in (("writer", writer), ("anonymous", anonymous)):
            for shape, body in BODIES.items():
                for method in endpoint.methods:
                    answer = send(client, method, endpoint.url, body)
                    problem = _problem(endpoint, answer)
                    if problem:
                        wrong.append(f"{method.upper()} {endpoint.url} ({who}, {shape}): {problem}")
    assert not wrong, report(wrong)
    assert row_counts() == before


def report(wrong: list[str]) -> str:
    """The wrong answers, the 500s first, at most 80 lines."""
    wrong = sorted(wrong, key=lambda line: not line.endswith(": 500"))
    return f"{len(wrong)} answers wrong:\n" + "\n".join(wrong[:80])


def _problem(endpoint: Endpoint, answer) -> str:
    if answer.status_code >= 500:
        return f"{answer.status_code}"
    if answer.status_code != 400:
        return f"{answer.status_code}, not 400"
    if endpoint.api or answer["Content-Type"].startswith("application/json"):
        detail = json.loads(answer.content).get("detail", "")
        if not detail:
            return "400 without a message"
    return ""


def test_the_message_says_what_is_wrong_in_the_readers_language(world):
    client = Client()
    deep = send(client, "post", "/api/v1/auth/token/", BODIES["deeply nested"])
    assert deep.status_code == 400
    assert deep.json() == {
        "detail": f"The JSON body is nested deeper than {MAX_DEPTH} levels.",
        "code": "parse_error",
    }
    lone = send(client, "post", "/api/v1/auth/token/", BODIES["lone surrogate in a key"])
    assert lone.status_code == 400 and "lone surrogate" in lone.json()["detail"]
    chinese = client.post(
        "/api/v1/auth/token/",
        data=BODIES["deeply nested"],
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert chinese.status_code == 400
    assert chinese.json()["detail"] == f"JSON 请求体的嵌套超过 {MAX_DEPTH} 层。"


@translation.override("en")
def test_the_parser_allows_real_bodies_and_draws_the_line_at_max_depth():
    def nested(depth: int):
        value: object = 1
        for _ in range(depth):
            value = [value]
        return value

    json_shape_check({"data": {"levels": [{"level": "L1", "note": "术后 😀"}]}})
    json_shape_check(nested(MAX_DEPTH))
    with pytest.raises(ParseError, match="nested deeper"):
        json_shape_check(nested(MAX_DEPTH + 1))
    # A surrogate pair is one character (an emoji): fine. A lone half is not.
    parsed = JSONParser().parse(_stream('{"note": "\\ud83d\\ude00"}'))
    assert parsed == {"note": "😀"}
    with pytest.raises(ParseError, match="lone surrogate"):
        JSONParser().parse(_stream('["\\udc00"]'))


def _stream(text: str):
    return io.BytesIO(text.encode())


def test_an_answer_that_quotes_a_lone_surrogate_is_still_sent():
    """The renderer never fails: what UTF-8 cannot encode goes out \\u-escaped, as valid JSON."""
    rendered = JSONRenderer().render({"detail": f"{SURROGATE} is not a choice.", "name": "术后"})
    assert json.loads(rendered) == {"detail": f"{SURROGATE} is not a choice.", "name": "术后"}
    assert JSONRenderer().render({"name": "术后"}).decode() == '{"name":"术后"}'  # Chinese stays readable


# --- pages: what a browser or a script can send -------------------------------------------------------------

# Form fields, query strings, headers and paths reach Django as bytes; these are the bytes of a surrogate
# (an invalid UTF-8 sequence), raw and percent-encoded.
RAW_SURROGATE = SURROGATE.encode("utf-8", "surrogatepass")  # b"\xed\xa0\x80"


def test_pages_never_answer_500_to_surrogates_in_forms_queries_headers_or_paths(world):
    every = [e for e in endpoints(url_values(world)) if not e.api and not e.url.startswith("/admin/")]
    staff = Client(raise_request_exception=False)
    staff.force_login(world["coordinator"])
    encoded = "%ED%A0%80"
    form = f"{encoded}={encoded}&reason={encoded}&text={encoded}&date={encoded}&action={encoded}&q0={encoded}"
    header = RAW_SURROGATE.decode("latin-1")  # how a WSGI server hands over raw header bytes
    # The three spellings of the reason header take turns: each reaches every view through some method.
    reasons = itertools.cycle((header, encoded, f"UTF-8''{encoded}"))
    wrong = []
    for endpoint in every:
        for method in endpoint.methods:
            reason = next(reasons)
            answer = getattr(staff, method)(
                f"{endpoint.url}?lang={encoded}&{encoded}=1",
                data=form,
                content_type="application/x-www-form-urlencoded",
                HTTP_X_CHANGE_REASON=reason,
            )
            if answer.status_code >= 500:
                wrong.append(f"{method.upper()} {endpoint.url} (reason {reason!r}): {answer.status_code}")
    for path in (f"/p/{encoded}/", f"/participants/{encoded}/", f"/api/v1/patient/{encoded}/"):
        for method in ("get", "post"):
            answer = getattr(staff, method)(path)
            if answer.status_code >= 500:
                wrong.append(f"{method.upper()} {path}: {answer.status_code}")
    assert not wrong, report(wrong)
