"""The load (locust): coordinators screening, enrolling and saving forms; patients answering through their
links; a guesser bursting wrong tokens at the patient pages; the bare DRF endpoint, the floor.

Reads the plan (LOADTEST_PLAN, written by plan.py) and appends one JSON line per request (its operation,
time and status) and per acknowledged write (what was sent, the id or version the server answered) to
LOADTEST_OUT, which check.py compares with the database. No Django here: this process is only a client.
Every request is named by its operation, so no URL (a token) reaches locust's statistics or output.
"""

import datetime
import itertools
import json
import os
import random
import secrets
import zoneinfo
from pathlib import Path

from locust import HttpUser, between, constant_throughput, events, task

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text(encoding="utf-8"))
OUT = Path(os.environ["LOADTEST_OUT"]).open("a", encoding="utf-8", buffering=1)  # noqa: SIM115 -- whole run
COORDINATORS = itertools.cycle(PLAN["coordinators"])
PATIENTS = iter(PLAN["patients"])
REASON = "load test: operative time re-entered"
FLOOR = "/api/v1/bench/floor/"


def record(kind: str, **fields) -> None:
    """One line: gevent does not switch inside a file write, so lines never interleave."""
    OUT.write(json.dumps({"kind": kind, **fields}) + "\n")


@events.request.add_listener
def timing(name, response_time, response, exception, **_kwargs):
    status = getattr(response, "status_code", 0) or 0
    record("timing", name=name, ms=round(response_time, 2), status=status, error=bool(exception))


@events.quitting.add_listener
def close(**_kwargs):
    OUT.close()


def call(user: HttpUser, method: str, url: str, name: str, expected: tuple[int, ...], **kwargs):
    """A request whose status is one of `expected` (else a failure, counted as an error); the response."""
    with user.client.request(method, url, name=name, catch_response=True, **kwargs) as response:
        if response.status_code in expected:
            response.success()
        else:
            response.failure(f"status {response.status_code}")
        return response


class Coordinator(HttpUser):
    """A site's coordinator on the API: screens and enrolls, and re-enters the procedure form's operative
    time on the site's shared forms (a stale ETag is a 409: read again, nothing overwritten)."""

    wait_time = between(0.5, 1.5)

    def on_start(self):
        me = next(COORDINATORS)
        self.user_name, self.site, self.zone = me["user"], me["site"], zoneinfo.ZoneInfo(me["zone"])
        self.client.headers["Authorization"] = f"Token {me['token']}"
        self.forms = PLAN["forms"].get(self.site) or []

    def today(self) -> str:
        return datetime.datetime.now(self.zone).date().isoformat()

    @task(3)
    def screen_and_enroll(self):
        today = self.today()
        body = {"study": PLAN["study"], "site": self.site, "screening_date": today, **PLAN["screening"]}
        screened = call(self, "POST", "/api/v1/screenings/", "screen", (201,), json=body)
        if screened.status_code != 201:
            return
        screening = screened.json()
        record("screening", id=screening["id"], user=self.user_name, site=self.site, age=body["age"])
        enrollment = {
            "consent_date": today,
            "enrollment_date": today,
            "identity": {"full_name": f"Load Test {secrets.token_hex(4)}"},
            "beyond_target": True,
        }
        url = f"/api/v1/screenings/{screening['id']}/enroll/"
        enrolled = call(self, "POST", url, "enroll", (201,), json=enrollment)
        if enrolled.status_code == 201:
            record("enrollment", screening=screening["id"], study_id=enrolled.json()["study_id"])

    @task(5)
    def save_form(self):
        if not self.forms:
            return
        study_id = random.choice(self.forms)
        url = f"/api/v1/participants/{study_id}/forms/{PLAN['form']}/"
        read = call(self, "GET", url, "read form", (200,))
        if read.status_code != 200:
            return
        data = read.json()["data"]
        minutes = random.choice([m for m in range(30, 171) if m != data.get("operative_time")])
        saved = call(
            self,
            "PUT",
            url,
            "save form",
            (200, 409),
            json={"data": {**data, "operative_time": minutes}},
            headers={"If-Match": read.headers["ETag"], "X-Change-Reason": REASON},
        )
        if saved.status_code == 200:
            version = int(saved.headers["ETag"].strip('"'))
            record("form", study_id=study_id, form=PLAN["form"], version=version, operative_time=minutes)
        else:
            record("form_conflict", study_id=study_id)

    @task(2)
    def floor(self):
        call(self, "GET", FLOOR, "floor (bare DRF)", (200,))


class Patient(HttpUser):
    """A patient answering the VAS through their link, from an address of their own (as nginx would pass
    it): reads it, moves the mark and saves (If-Match), at a patient's pace; never submits."""

    fixed_count = len(PLAN["patients"])
    wait_time = between(2, 5)

    def on_start(self):
        me = next(PATIENTS)
        self.link, token = me["link"], me["token"]
        self.client.headers["X-Forwarded-For"] = me["address"]
        self.api, self.page = f"/api/v1/patient/{token}/", f"/p/{token}/"

    @task(1)
    def open_page(self):
        call(self, "GET", self.page, "patient page", (200,))

    @task(3)
    def answer(self):
        read = call(self, "GET", self.api, "patient open", (200,))
        if read.status_code != 200:
            return
        # Another mark than the one saved: an unchanged save keeps its version, and would read as two writes
        # acknowledged as one version.
        pain = random.choice([mm for mm in range(101) if mm != (read.json()["answers"] or {}).get("pain")])
        saved = call(
            self,
            "PUT",
            self.api,
            "patient save",
            (200,),
            json={"answers": {"pain": pain}},
            headers={"If-Match": read.headers["ETag"]},
        )
        if saved.status_code == 200:
            version = int(saved.headers["ETag"].strip('"'))
            record("patient", link=self.link, version=version, pain=pain)


class Guesser(HttpUser):
    """A burst of made-up tokens from one address: 404 until the failure limit, then 429 to the end."""

    fixed_count = 1
    wait_time = constant_throughput(20)

    def on_start(self):
        self.client.headers["X-Forwarded-For"] = PLAN["guesser"]

    @task
    def guess(self):
        made_up = f"{secrets.token_urlsafe(16)}.{secrets.token_urlsafe(20)}"
        call(self, "GET", f"/p/{made_up}/", "guess a token", (404, 429))
