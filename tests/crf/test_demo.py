"""crf.demo: a pure, deterministic plan of realistic casebooks, stored as the services would store them."""

import datetime
import io
import statistics
from collections import Counter

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from crf.demo import Enrolled, crf_plan, crf_seed, seeder
from crf.demo.seeder import _chunk, _enrolled
from crf.engine.definitions import form_definition, form_definitions
from crf.engine.paths import flatten, group_keys
from crf.engine.validate import CheckContext, clean_data, derive, evaluate, typed_values
from crf.forms_ui import spec_of
from crf.models import DataQuery, FormRecord, FormStatus, QueryAction, QueryStatus, Signature
from trial.clock import site_today
from trial.demo import DEMO_REASON, demo_plan, demo_seed
from trial.eligibility import CriterionSpec
from trial.models import Participant, ParticipantStatus, Role, StaffRole
from trial.services.protocols import protocol_parse

from .conftest import canonical_sha256

# seed_demo's default end is the site's yesterday: the clock is stopped on TODAY (2026-11-21), so the command
# seeds the same data as the plans below, and the dates judged against today, on any day.
pytestmark = pytest.mark.frozen("2026-11-21 09:00")

TODAY = datetime.date(2026, 11, 21)
FORMS = ("baseline", "dxa", "fracture_levels", "qmri", "procedure", "discharge")


def shipped_criteria(code: str) -> list[CriterionSpec]:
    data = protocol_parse((settings.PROTOCOL_DIR / f"{code}.yaml").read_text(encoding="utf-8"))
    return [CriterionSpec(code=str(c["code"]), kind=c["kind"], rule=c.get("rule")) for c in data["criteria"]]


def enrolled(participants: int, *, seed: int = 5) -> list[Enrolled]:
    """Participants as trial.demo plans them: realistic ages, sexes, fracture levels, dates and statuses."""
    plan = demo_plan(
        criteria=shipped_criteria("NCT06379243"),
        site_codes=["07", "91", "92"],
        participants=participants,
        seed=seed,
        start=datetime.date(2023, 12, 1),
        end=TODAY - datetime.timedelta(days=1),
        study_id_format="{site}-{number:04d}",
    )
    return [
        Enrolled(
            key=key,
            study_id=row.enrollment.study_id,
            site=row.site,
            time_zone="Asia/Shanghai",
            age=row.age,
            sex=row.sex,
            fracture_levels=row.fracture_levels,
            screening_date=row.screening_date,
            consent_date=row.enrollment.consent_date,
            enrollment_date=row.enrollment.enrollment_date,
            status=row.enrollment.status,
            status_date=row.enrollment.status_date,
            forms=FORMS,
        )
        for key, row in enumerate((r for r in plan.screenings if r.enrollment), start=1)
    ]


@pytest.fixture(scope="module")
def people() -> list[Enrolled]:
    return enrolled(1500)


@pytest.fixture(scope="module")
def plan(people):
    return crf_plan(people, seed=1, today=TODAY)


def by_form(plan, code: str) -> list[dict]:
    return [form.data for form in plan if form.form_code == code]


def share(values) -> float:
    values = list(values)
    return sum(map(bool, values)) / len(values)


# --- the plan (no database) --------------------------------------------------------------------------------


def test_same_seed_same_plan_other_seed_other_plan(people):
    some = people[:150]
    assert crf_plan(some, seed=1, today=TODAY) == crf_plan(some, seed=1, today=TODAY)
    assert crf_plan(some, seed=1, today=TODAY) != crf_plan(some, seed=2, today=TODAY)


def test_a_casebook_does_not_depend_on_who_else_is_planned(people, plan):
    """What makes chunks and worker processes safe, and a second run plan nothing new."""
    some = people[:300]
    whole = crf_plan(some, seed=1, today=TODAY)
    assert crf_plan(some[:120], seed=1, today=TODAY) + crf_plan(some[120:], seed=1, today=TODAY) == whole
    assert whole == plan[: len(whole)]


def test_the_worker_task_encodes_the_same_plan(people):
    users = {
        (role, site): (1, "x")
        for role in (Role.COORDINATOR, Role.INVESTIGATOR)
        for site in ["07", "91", "92"]
    }
    users |= {(Role.MONITOR, "*"): (2, "monitor"), (Role.DATA_MANAGER, "*"): (3, "dm")}
    result, statements = _chunk((people[:100], 1, TODAY, users))
    again = _chunk((people[:100], 1, TODAY, users))
    assert (result, statements) == again
    assert sum(result.records.values()) == len(crf_plan(people[:100], seed=1, today=TODAY))
    assert {model.__name__ for model, _columns, _batch in statements} >= {"FormRecord", "Signature"}


def test_every_form_is_what_crf_save_would_store(people, plan):
    consent = {p.key: p for p in people}
    forms = {}
    for form in plan:
        forms.setdefault(form.participant, {})[form.form_code] = form.data
    for form in plan:
        definition = form_definition(form.form_code)
        # What crf_save stores from the values typed (derived values, BMI, are computed and never typed).
        clean, findings = clean_data(definition, typed_values(definition, form.data))
        assert clean == form.data and not findings.errors
        person = consent[form.participant]
        others = {code: data for code, data in forms[form.participant].items() if code != form.form_code}
        findings = evaluate(
            definition,
            form.data,
            CheckContext(
                today=TODAY,
                consent_date=person.consent_date,
                enrollment_date=person.enrollment_date,
                other_forms=others,
            ),
        )
        auto = {(q.check_code, q.field_path) for q in form.queries if q.auto}
        assert auto == {(w.check, w.path) for w in findings.warnings}
        if form.status != FormStatus.DRAFT:
            assert not findings.incomplete, (form.form_code, findings.incomplete)


def test_plan_has_a_realistic_status_mix(people, plan):
    enrolled_on = {p.key: p.enrollment_date for p in people}
    old = Counter(f.status for f in plan if (TODAY - enrolled_on[f.participant]).days > 365)
    recent = [p for p in people if (TODAY - p.enrollment_date).days <= 7]
    recent_forms = Counter(f.status for f in plan if (TODAY - enrolled_on[f.participant]).days <= 7)

    assert (old[FormStatus.SIGNED] + old[FormStatus.LOCKED]) / sum(old.values()) > 0.8
    assert set(recent_forms) <= {FormStatus.DRAFT, FormStatus.COMPLETE}
    assert len(recent_forms) == 0 or recent_forms[FormStatus.DRAFT] > 0
    started = {f.participant for f in plan}
    assert recent and any(p.key not in started for p in recent)  # enrolled days ago: nothing entered yet
    assert {FormStatus.DRAFT, FormStatus.COMPLETE, FormStatus.VERIFIED} <= {f.status for f in plan}
    queries = Counter(q.status for f in plan for q in f.queries)
    assert queries[QueryStatus.OPEN] > 0 and queries[QueryStatus.CLOSED] > queries[QueryStatus.OPEN]
    assert 0 < sum(not q.auto for f in plan for q in f.queries) < 0.02 * len(plan)  # a handful of manual


def test_timelines_are_in_order(people, plan):
    by_key = {p.key: p for p in people}
    for form in plan:
        stamps = [form.created_at, form.completed_at, form.verified_at, form.signed_at, form.locked_at]
        present = [s for s in stamps if s is not None]
        assert present == sorted(present) and form.updated_at == present[-1]
        assert present[-1].date() < TODAY
        person = by_key[form.participant]
        if person.status == ParticipantStatus.WITHDRAWN:
            assert form.created_at.date() < person.status_date  # no form started after withdrawal
        for query in form.queries:
            moments = [step.at for step in query.steps]
            assert moments == sorted(moments) and query.steps[0].action == QueryAction.RAISE
        if form.status in (FormStatus.VERIFIED, FormStatus.SIGNED, FormStatus.LOCKED):
            assert all(q.status == QueryStatus.CLOSED for q in form.queries)


def test_dates_follow_the_clinical_course(people, plan):
    by_key = {p.key: p for p in people}
    procedures = {f.participant: f.data for f in plan if f.form_code == "procedure"}
    lags, before_consent = [], 0
    for key, data in procedures.items():
        if "procedure_date" not in data:
            continue
        day = datetime.date.fromisoformat(data["procedure_date"])
        lags.append((day - by_key[key].enrollment_date).days)
        before_consent += day < by_key[key].consent_date
    assert sum(0 <= lag <= 3 for lag in lags) / len(lags) > 0.97
    assert 0 < before_consent < 0.03 * len(lags)
    for form in plan:
        procedure = procedures.get(form.participant, {}).get("procedure_date")
        if form.form_code == "discharge" and "discharge_date" in form.data and procedure:
            stay = (
                datetime.date.fromisoformat(form.data["discharge_date"])
                - datetime.date.fromisoformat(procedure)
            ).days
            assert 2 <= stay <= 5


def test_baseline_distributions_are_realistic(people, plan):
    sex = {p.key: p.sex for p in people}
    baseline = [f for f in plan if f.form_code == "baseline" and "bmi" in f.data and "smoking" in f.data]
    data = [f.data for f in baseline]
    assert 21 <= statistics.mean(d["bmi"] for d in data) <= 23
    assert 2.8 <= statistics.stdev(d["bmi"] for d in data) <= 4.0
    smokers = [f for f in baseline if f.data["smoking"] != "never"]
    assert 0.08 <= len(smokers) / len(baseline) <= 0.17
    assert sum(sex[f.participant] == "male" for f in smokers) / len(smokers) > 0.6
    assert 0.15 <= share(d.get("diabetes") for d in data) <= 0.25
    assert 0.02 <= share(d.get("glucocorticoids") for d in data) <= 0.08
    assert 0.24 <= share(d.get("prior_fracture") for d in data) <= 0.36
    treated = share(
        d.get("current_treatment", ["none"]) != ["none"] or d.get("prior_treatment", ["none"]) != ["none"]
        for d in data
    )
    assert 0.19 <= treated <= 0.31
    falls = [d["falls_past_year"] for d in data if "falls_past_year" in d]
    assert sum(f <= 3 for f in falls) / len(falls) > 0.95
    vas = [d["vas_preop"] for d in data if "vas_preop" in d]
    assert 84 <= statistics.mean(vas) <= 90


def test_imaging_distributions_are_realistic(people, plan):
    sex = {p.key: p.sex for p in people}
    levels = {p.key: set(p.fracture_levels) for p in people}
    dxa = [d for d in by_form(plan, "dxa") if "t_lumbar" in d]
    assert -3.3 <= statistics.mean(d["t_lumbar"] for d in dxa) <= -2.7
    necks = [d["t_femoral_neck"] for d in by_form(plan, "dxa") if "t_femoral_neck" in d]
    assert -2.9 <= statistics.mean(necks) <= -2.3
    fractures = [f for f in plan if f.form_code == "fracture_levels" and "fractures" in f.data]
    for form in fractures:
        acute = {row["level"] for row in form.data["fractures"] if row["acuity"] == "acute"}
        assert acute == levels[form.participant]  # the screening's levels, all with oedema
        assert all(row["oedema"] for row in form.data["fractures"] if row["acuity"] == "acute")
    rows = [row for form in fractures for row in form.data["fractures"]]
    assert 0.05 <= share(row["acuity"] == "chronic" for row in rows) <= 0.2
    qmri = [f for f in plan if f.form_code == "qmri" and "field_strength" in f.data]
    assert share(f.data["field_strength"] == "3.0" for f in qmri) > 0.75

    def pdff(who: str) -> float:
        return statistics.mean(
            row["pdff"]
            for f in qmri
            if sex[f.participant] == who
            for row in f.data["vertebrae"]
            if not row["fractured"]
        )

    assert 48 <= pdff("female") <= 58 and 40 <= pdff("male") <= 50 and pdff("female") > pdff("male")


def test_procedure_distributions_are_realistic(plan):
    procedures = [d for d in by_form(plan, "procedure") if "technique" in d and "levels" in d]
    assert 0.40 <= share(d["technique"] == "PKP" for d in procedures) <= 0.70
    leak = {
        technique: share(
            any(r["leakage"] for r in d["levels"]) for d in procedures if d["technique"] == technique
        )
        for technique in ("PVP", "PKP")
    }
    assert 0.35 <= leak["PVP"] <= 0.55 and 0.17 <= leak["PKP"] <= 0.33
    levels = [row for d in procedures for row in d["levels"]]
    assert 3 <= statistics.mean(row["cement_volume"] for row in levels) <= 6
    assert 0.5 <= share(row["approach"] == "unipedicular" for row in levels) <= 0.7
    for technique, (low, high) in (("PVP", (24, 38)), ("PKP", (32, 46))):
        times = [
            d["operative_time"] for d in procedures if d["technique"] == technique and "operative_time" in d
        ]
        assert low <= statistics.median(times) <= high
    leaking = [row for row in levels if row["leakage"]]
    assert all(row["leakage_type"] and row["leakage_location"] for row in leaking)
    assert {t for row in leaking for t in row["leakage_type"]} == {"B", "S", "C", "D"}
    vas = [d["vas_discharge"] for d in by_form(plan, "discharge") if "vas_discharge" in d]
    assert 20 <= statistics.mean(vas) <= 30


def test_soft_warnings_of_every_kind_occur(plan):
    checks = Counter(q.check_code for f in plan for q in f.queries if q.auto)
    assert {"GENANT_HEIGHT_LOSS", "PROCEDURE_BEFORE_CONSENT", "R2STAR_PLAUSIBLE"} <= set(checks)
    assert sum(checks.values()) < 0.1 * len(plan)  # queries are the exception


# --- the database ------------------------------------------------------------------------------------------


@pytest.fixture
def seeded(study):
    out = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", participants=150, seed=3, stdout=out)
    return out.getvalue()


def test_seed_demo_stores_clean_data_and_the_queries_evaluate_raises(seeded, study):
    records = list(FormRecord.objects.select_related("participant__site").prefetch_related("queries"))
    assert len(records) > 150 * 4
    forms = {}  # the participant-level forms, which checks and derived values read (visit forms are not)
    for record in records:
        if not record.visit_code:
            forms.setdefault(record.participant_id, {})[record.form_code] = record.data
    for record in records:
        form = form_definition(record.form_code)
        participant = record.participant
        context = CheckContext(
            today=site_today(participant.site),
            consent_date=participant.consent_date,
            enrollment_date=participant.enrollment_date,
            other_forms={c: d for c, d in forms.get(participant.pk, {}).items() if c != record.form_code},
        )
        # What crf_save stores from the values typed: cleaned, then derived with the participant's forms.
        clean, findings = clean_data(form, typed_values(form, record.data))
        assert derive(form, clean, context) == record.data and not findings.errors
        assert record.form_version == form.version
        findings = evaluate(form, record.data, context)
        auto = [q for q in record.queries.all() if q.auto]
        warnings = {(w.check, w.path) for w in findings.warnings}
        assert {(q.check_code, q.field_path) for q in auto} == warnings
        assert {(q.check_code, q.field_path) for q in auto if q.status != QueryStatus.CLOSED} <= warnings
        values = flatten(record.data, group_keys(form))
        assert all(q.trigger_value == values[q.field_path] for q in auto)
        if record.status != FormStatus.DRAFT:
            assert not findings.incomplete and record.completed_at is not None


def test_statuses_carry_their_signatures_and_people(seeded, study):
    investigators = dict(StaffRole.objects.filter(role=Role.INVESTIGATOR).values_list("site_id", "user_id"))
    monitor = StaffRole.objects.get(role=Role.MONITOR, site=None).user_id
    data_manager = StaffRole.objects.get(role=Role.DATA_MANAGER, site=None).user_id
    records = FormRecord.objects.select_related("participant").prefetch_related("signatures", "queries")
    statuses = Counter()
    for record in records:
        statuses[record.status] += 1
        signatures = list(record.signatures.all())
        live = [q for q in record.queries.all() if q.status != QueryStatus.CLOSED]
        if record.status in (FormStatus.SIGNED, FormStatus.LOCKED):
            (signature,) = signatures
            assert signature.invalidated_at is None and signature.meaning == "approval"
            assert signature.signer_id == investigators[record.participant.site_id]
            assert signature.printed_name and signature.signed_at >= record.verified_at
            assert signature.data_sha256 == canonical_sha256(record.data)  # of the data stored now
            assert signature.record_version == record.version - (record.status == FormStatus.LOCKED)
        else:
            assert signatures == []
        if record.status in (FormStatus.VERIFIED, FormStatus.SIGNED, FormStatus.LOCKED):
            assert record.verified_by_id == monitor and record.verified_at and not live
        else:
            assert record.verified_by_id is None and record.verified_at is None
        if record.status == FormStatus.LOCKED:
            assert record.locked_by_id == data_manager and record.locked_at >= record.verified_at
        else:
            assert record.locked_by_id is None
        if record.status == FormStatus.DRAFT:
            assert record.completed_at is None
        assert record.created_at <= record.updated_at
    assert statuses[FormStatus.LOCKED] > statuses[FormStatus.DRAFT] > 0
    assert Signature.objects.count() == statuses[FormStatus.SIGNED] + statuses[FormStatus.LOCKED]


def test_queries_have_their_threads(seeded, study):
    monitor = StaffRole.objects.get(role=Role.MONITOR, site=None).user_id
    queries = list(DataQuery.objects.select_related("record").prefetch_related("messages"))
    assert queries
    kinds = Counter()
    for query in queries:
        messages = list(query.messages.all())
        assert messages[0].action == QueryAction.RAISE and messages[0].text
        expected = {QueryAction.RAISE: "open", QueryAction.ANSWER: "answered", QueryAction.CLOSE: "closed"}
        assert query.status == expected[messages[-1].action]
        assert (query.closed_at is not None) == (query.status == QueryStatus.CLOSED)
        if query.auto:
            assert query.check_code and messages[0].author_id is None and query.raised_by_id is None
        else:
            assert query.check_code == "" and query.raised_by_id == monitor == messages[0].author_id
        assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)
        # An edit check's message is stored as a code with its parameters; people's words have none.
        assert all((m.code, m.params) == ("", {}) for m in messages if m.author_id is not None)
        if query.auto:
            raised_by_check(query, messages[0])
            kinds[messages[0].code] += 1
    assert kinds["check"] and kinds["soft_range"], kinds


def raised_by_check(query, message) -> None:
    """An edit check's message, coded as crf_save codes it: English in the table, Chinese to a Chinese
    reader."""
    form = form_definition(query.record.form_code)
    if query.check_code.startswith("RANGE_"):
        spec = spec_of(form, query.field_path)
        assert (message.code, message.params) == (
            "soft_range",
            {"value": query.trigger_value, "unit": spec.unit, "low": spec.soft_min, "high": spec.soft_max},
        )
        chinese = "超出预期范围"
    else:
        assert (message.code, message.params) == ("check", {"form": form.code, "check": query.check_code})
        check = next(c for c in form.checks if c.code == query.check_code)
        assert message.text == check.message["en"]
        chinese = check.message["zh-hans"]
    with translation.override("zh-hans"):
        assert chinese in message.display_text
    with translation.override("en"):
        assert message.display_text == message.text


def test_seed_demo_prints_a_summary_and_a_second_run_adds_nothing(seeded, study):
    assert "NCT06379243 CRFs: added" in seeded and "data queries (" in seeded
    counts = (FormRecord.objects.count(), DataQuery.objects.count(), Signature.objects.count())

    again = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-not-production", participants=150, seed=3, stdout=again)

    assert "CRFs: nothing to add" in again.getvalue()
    assert crf_seed(study=study, seed=3).participants == 0
    assert (FormRecord.objects.count(), DataQuery.objects.count(), Signature.objects.count()) == counts


def test_seeded_forms_are_attributed_in_the_audit_trail(seeded, study):
    events = apps.get_model("crf", "FormRecordEvent").objects.filter(pgh_label="insert")
    assert events.count() == FormRecord.objects.count()
    assert events.exclude(pgh_context__metadata__reason=DEMO_REASON).count() == 0
    assert events.filter(pgh_context__metadata__command="seed_demo").count() == events.count()


def test_an_unchanged_save_through_the_api_changes_nothing(seeded, study):
    """The stored data is exactly what crf_save stores: saving it again is a no-op (same version)."""
    from ..conftest import client_for

    record = (
        FormRecord.objects.filter(
            status__in=(FormStatus.DRAFT, FormStatus.COMPLETE), participant__status=ParticipantStatus.ENROLLED
        )
        .select_related("participant__site")
        .first()
    )
    coordinator = StaffRole.objects.get(role=Role.COORDINATOR, site=record.participant.site).user
    url = f"/api/v1/participants/{record.participant.study_id}/forms/{record.form_code}/"
    client = client_for(coordinator)
    read = client.get(url)
    saved = client.put(url, {"data": read.json()["data"]}, format="json", HTTP_IF_MATCH=read["ETag"])
    assert saved.status_code == 200, saved.json()
    assert saved["ETag"] == read["ETag"] == f'"{record.version}"'
    assert DataQuery.objects.filter(record=record).count() == record.queries.count()


def test_worker_processes_store_what_the_plan_says(study, monkeypatch):
    """The parallel path (forked planners, chunks) writes exactly the in-process plan."""
    demo_seed(study=study, participants=120, seed=4, end=TODAY - datetime.timedelta(days=1))
    monkeypatch.setattr(seeder, "CHUNK_SIZE", 25)
    expected = crf_plan(_enrolled(Participant.objects.all()), seed=4, today=TODAY)

    result = crf_seed(study=study, seed=4, today=TODAY, workers=2)

    stored = {
        (r.participant_id, r.form_code): (r.status, r.version, r.data, r.created_at, r.locked_at)
        for r in FormRecord.objects.all()
    }
    assert stored == {
        (f.participant, f.form_code): (f.status, f.version, f.data, f.created_at, f.locked_at)
        for f in expected
    }
    assert result.signatures == Signature.objects.count() == sum(f.signed_at is not None for f in expected)
    assert DataQuery.objects.count() == sum(len(f.queries) for f in expected) == sum(result.queries.values())


def test_forms_follow_the_protocol_of_each_participant(study2):
    """NCT06172179 has no quantitative MRI form: none is seeded for its participants."""
    call_command(
        "seed_demo",
        "--i-know-this-is-not-production",
        participants=40,
        seed=3,
        study="NCT06172179",
        stdout=io.StringIO(),
    )
    codes = set(FormRecord.objects.values_list("form_code", flat=True))
    assert codes and "qmri" not in codes and codes <= set(form_definitions())
    assert Participant.objects.filter(site__study=study2).exists()


def test_participants_the_seeder_did_not_create_get_no_demo_forms(study, make_participant):
    """Run by mistake on a live database, the seeder invents no forms (nor signatures) for real people."""
    real = make_participant()
    demo_seed(study=study, participants=30, seed=3, add=True, end=TODAY - datetime.timedelta(days=1))

    result = crf_seed(study=study, seed=3, today=TODAY)

    assert result.participants > 0
    assert not FormRecord.objects.filter(participant=real).exists()
