"""The analysis dataset: one row per participant, every CRF field of the enrollment forms typed and named as
in the data dictionary (`<form>_<field>`, a multiple choice as one 0/1 column per choice `<form>_<field>___<
code>`), and the derived variables:

- the lowest T-score; per-level PDFF and R2* and their mean over the measured levels neither fractured nor
  cemented (reports.derived, the interim report's rule); the number and list of fractured and treated levels,
  the cement volume and any (and intradiscal) leakage; BMI is the baseline form's own derived field;
- ODI and VAS per visit, their change from baseline and the two MCID flags (followup.instruments.mcid);
- the primary endpoint (followup.selectors.endpoint: the one rule the report and the pages use): index date,
  event, its date or the censoring date, days, adjacent or remote, levels, censoring reason, pending review;
- each scheduled visit's state and date, and the count of completed and missed visits.

Streamed: one SELECT (a LEFT JOIN per enrollment form, a subquery each for the scores and the visits) read
on a server-side cursor BATCH rows at a time, beside the endpoint's own query in the same order; each row is
built and handed to the writer, never kept. Participants enrolled by `cut_at`, in study ID order.
"""

import datetime
import enum
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from crf.engine.definitions import FormDef, form_definitions
from crf.models import FormRecord, FormStatus
from followup.endpoint import CENSOR_REASONS
from followup.instruments.mcid import RELATIVE_MCID_PERCENT
from followup.instruments.registry import instrument_def
from followup.models import AdjudicationCase, FractureLocation, QuestionnaireResponse, Visit, VisitState
from followup.selectors.endpoint import (
    NO_INDEX_DATE,
    endpoint_fractures,
    endpoint_participants,
    endpoint_rows,
    endpoint_settings,
    study_today,
)
from trial.i18n import localized
from trial.models import Cohort, Participant, ParticipantStatus, Screening, Site, Study
from trial.models.screening import Sex

from ..derived import number, procedure_summary, qmri_means
from ..pdf.primary import censoring_name
from ..replica import read_connection
from .fields import date_value, field_select, json_value, rows_of
from .labels import both, label_join, text_choices
from .table import Column, Table
from .table import ColumnType as T

# Rows fetched per round trip of the server-side cursor: a few megabytes of JSON at most.
BATCH = 2000
# De-identified rows in an order drawn from the export's salt: never the study IDs' order, which would let
# row k of one file be matched to the k-th study ID, or to row k of another de-identified export.
ORDER_BY_SALT = "md5(%s || p.study_id)"
ENDPOINT_COLUMNS = ", e.index_value, e.last_assessed, e.adjudication_pending"
T_SCORES = ("t_lumbar", "t_femoral_neck", "t_total_hip")


class AnalysisDataset:
    """The columns of a study's analysis dataset (from its protocol) and the rows at a cut."""

    def __init__(self, study: Study):
        self.study = study
        self.definition = study.current_version.definition
        definitions = form_definitions()
        self.forms = [definitions[code] for code in self.definition.get("forms", []) if code in definitions]
        self.schedule = self.definition.get("visits", {}).get("schedule", [])
        self.has_endpoint = bool(self.definition.get("endpoint"))
        self._sites: list | None = None
        self.qmri_levels = self._levels("qmri", "vertebrae")
        self.columns: list[Column] = self._participant_columns()
        # The enrollment forms, then each form a scheduled visit collects (the 12-month MRI), named
        # <form>_<visit>_<field>; their repeating groups are in the long tables.
        self.entries = [(form, "", form.code) for form in self.forms] + [
            (definitions[code], visit["code"], f"{code}_{visit['code']}")
            for visit in self.schedule
            for code in visit.get("forms", [])
            if code in definitions
        ]
        # Per entry: the SQL expressions of its columns (status first) and their parameters.
        self.form_exprs: list[tuple[list[str], list]] = []
        for i, (form, visit, prefix) in enumerate(self.entries):
            title = label_join(form.title, self._visit_label(visit)) if visit else form.title
            self.columns.append(
                Column(
                    f"{prefix}_status",
                    label_join(title, _("form status")),
                    T.CHOICE,
                    choices=text_choices(FormStatus),
                )
            )
            columns, exprs, params = field_select(form.fields, prefix, f"f{i}.data")
            self.columns += columns
            self.form_exprs.append(([f"f{i}.status", *exprs], params))
        self.n_fields = len(self.columns)  # participant and form columns: read as they come from SQL
        names = [column.name for column in self.columns]
        self.status_at = {form.code: names.index(f"{form.code}_status") for form in self.forms}
        self.t_scores_at = [names.index(f"dxa_{key}") for key in T_SCORES if f"dxa_{key}" in names]
        self.columns += self._derived_columns()
        self.instruments = self._instruments()
        self.instruments_rule = [
            (
                code,
                visits,
                has_baseline,
                int(instrument_def(code).mcid * 10),
                instrument_def(code).lower_is_better,
            )
            for code, visits, has_baseline in self.instruments
        ]
        self.columns += self._score_columns()
        if self.has_endpoint:
            self.columns += self._endpoint_columns()
        self.columns += self._visit_columns()

    # --- columns ------------------------------------------------------------------------------------------

    def _design_columns(self) -> list[tuple[Column, str]]:
        """The columns the protocol's design and sites add, each with its SQL expression: the centre's cohort
        (sites tagged development or external validation), the group chosen at registration (design groups)
        and the consent waiver (retrospective registration)."""
        design = self.definition.get("design") or {}
        columns = []
        if any(site.get("cohort") for site in self.definition.get("sites", [])):
            column = Column("cohort", both(_("Cohort of the site")), T.CHOICE, choices=text_choices(Cohort))
            columns.append((column, "NULLIF(s.cohort, '')"))
        if design.get("groups"):
            choices = tuple((group["code"], group["label"]) for group in design["groups"])
            columns.append(
                (Column("group", both(_("Group")), T.CHOICE, choices=choices), """NULLIF(p."group", '')""")
            )
        if design.get("registration") == "retrospective":
            columns.append(
                (Column("consent_waived", both(_("Consent waived")), T.BOOLEAN), "p.consent_waived")
            )
        return columns

    def _participant_columns(self) -> list[Column]:
        return [
            Column("study_id", both(_("Study ID")), T.STRING),
            Column("site", both(_("Site")), T.STRING),
            *(column for column, _expr in self._design_columns()),
            Column("sex", both(_("Sex")), T.CHOICE, choices=text_choices(Sex)),
            Column("age", both(_("Age at screening")), T.INTEGER, unit="years"),
            Column("enrollment_date", both(_("Enrollment date")), T.DATE),
            Column("consent_date", both(_("Consent date")), T.DATE),
            Column(
                "status", both(_("Participant status")), T.CHOICE, choices=text_choices(ParticipantStatus)
            ),
            Column("status_date", both(_("Status date")), T.DATE),
            Column("status_reason", both(_("Status reason")), T.STRING, free_text=True),
        ]

    def _visit_label(self, code: str) -> dict:
        return next((visit["label"] for visit in self.schedule if visit["code"] == code), code)

    def _form(self, code: str) -> FormDef | None:
        return next((form for form in self.forms if form.code == code), None)

    def _levels(self, form: str, group: str) -> tuple[str, ...]:
        found = self._form(form)
        spec = found.group(group) if found else None
        return spec.field(spec.key).choice_codes if spec else ()

    def _derived_columns(self) -> list[Column]:
        columns = []
        if self._form("dxa"):
            columns.append(
                Column("t_score_min", both(_("Lowest T-score (lumbar, femoral neck, total hip)")), T.DECIMAL)
            )
        if self._form("fracture_levels"):
            columns += [
                Column("fractures_n", both(_("Number of fractured levels at baseline")), T.INTEGER),
                Column("fractures_levels", both(_("Fractured levels at baseline")), T.STRING),
            ]
        if self._form("procedure"):
            columns += [
                Column("treated_n", both(_("Number of treated levels")), T.INTEGER),
                Column("treated_levels", both(_("Treated levels")), T.STRING),
                Column("cement_volume", both(_("Cement volume, all levels")), T.DECIMAL, unit="mL"),
                Column("leakage", both(_("Cement leakage at any level")), T.BOOLEAN),
                Column("leakage_intradiscal", both(_("Intradiscal cement leakage at any level")), T.BOOLEAN),
            ]
        if self._form("qmri"):
            group = self._form("qmri").group("vertebrae")
            for key in ("pdff", "r2star"):
                spec = group.field(key)
                columns += [
                    Column(f"{key}_{level}", label_join(spec.label, level), T.DECIMAL, unit=spec.unit)
                    for level in self.qmri_levels
                ]
                columns.append(
                    Column(
                        f"{key}_mean",
                        label_join(
                            spec.label, _("mean of the measured levels neither fractured nor cemented")
                        ),
                        T.DECIMAL,
                        unit=spec.unit,
                    )
                )
        return columns

    def _instruments(self) -> list[tuple[str, list[str], bool]]:
        """[(instrument, [visit codes that collect it, in schedule order], whether the first is a baseline)].

        A baseline is a visit on or before its anchor's date (day <= 0: before the treatment). A protocol
        whose first questionnaire is after treatment (the sister study's 1-month VAS) has no baseline: no
        change is computed from a post-operative score and called a change from baseline."""
        found: dict[str, list[str]] = {}
        before: dict[str, bool] = {}
        for visit in self.schedule:
            for code in visit.get("questionnaires", []):
                if code not in found:
                    before[code] = visit.get("day") is not None and visit["day"] <= 0
                found.setdefault(code, []).append(visit["code"])
        return [(code, visits, before[code]) for code, visits in found.items()]

    def _score_columns(self) -> list[Column]:
        columns = []
        labels = {visit["code"]: visit["label"] for visit in self.schedule}
        for code, visits, has_baseline in self.instruments:
            name, unit = instrument_def(code).name, instrument_def(code).unit
            baseline = labels[visits[0]]
            change = lambda baseline=baseline: _("change from %(visit)s") % {"visit": localized(baseline)}  # noqa: E731
            for i, visit in enumerate(visits):
                label = labels[visit]
                columns.append(Column(f"{code}_{visit}", label_join(name, label), T.DECIMAL, unit=unit))
                if i and has_baseline:
                    columns += [
                        Column(
                            f"{code}_{visit}_change",
                            label_join(name, label, change),
                            T.DECIMAL,
                            unit=unit,
                        ),
                        Column(
                            f"{code}_{visit}_mcid",
                            label_join(name, label, _("improved by at least the MCID")),
                            T.BOOLEAN,
                        ),
                        Column(
                            f"{code}_{visit}_mcid30",
                            label_join(name, label, _("improved by at least 30 %")),
                            T.BOOLEAN,
                        ),
                    ]
        return columns

    def _endpoint_columns(self) -> list[Column]:
        reasons = (
            *((code, both(lambda code=code: censoring_name(code))) for code in CENSOR_REASONS),
            (NO_INDEX_DATE, both(_("not treated: no index date"))),
        )
        return [
            Column("endpoint_index_date", both(_("Index date (endpoint)")), T.DATE),
            Column("endpoint_event", both(_("New fracture within the horizon (adjudicated)")), T.BOOLEAN),
            Column("endpoint_date", both(_("Event date, or censoring date")), T.DATE),
            Column("endpoint_days", both(_("Days from the index date to the event or censoring")), T.INTEGER),
            Column(
                "endpoint_location",
                both(_("Location of the new fracture")),
                T.CHOICE,
                choices=text_choices(FractureLocation),
            ),
            Column("endpoint_levels", both(_("Levels of the new fracture")), T.STRING),
            Column("endpoint_censor", both(_("Censoring reason")), T.CHOICE, choices=reasons),
            Column("endpoint_pending", both(_("A case still being adjudicated")), T.BOOLEAN),
        ]

    def _visit_columns(self) -> list[Column]:
        columns = []
        for visit in self.schedule:
            code = visit["code"]
            columns += [
                Column(
                    f"visit_{code}",
                    label_join(visit["label"], _("state")),
                    T.CHOICE,
                    choices=text_choices(VisitState),
                ),
                Column(f"visit_{code}_date", label_join(visit["label"], _("date")), T.DATE),
            ]
        return [
            *columns,
            Column("visits_completed", both(_("Scheduled visits completed")), T.INTEGER),
            Column("visits_missed", both(_("Scheduled visits missed")), T.INTEGER),
        ]

    # --- rows ---------------------------------------------------------------------------------------------

    # The repeating groups the derived values read, as JSON text after the typed columns.
    GROUPS = (("fracture_levels", "fractures"), ("procedure", "levels"), ("qmri", "vertebrae"))

    def sql(self, *, cut_at: datetime.datetime, salt: str | None = None) -> tuple[str, list]:
        """The one SELECT the rows are read from (the bench times COPY of it beside the export). In study
        ID order; with a de-identification salt, in an order drawn from it (order_by_salt)."""
        p, s, sc = Participant._meta.db_table, Site._meta.db_table, Screening._meta.db_table
        records, visits = FormRecord._meta.db_table, Visit._meta.db_table
        responses = QuestionnaireResponse._meta.db_table
        joins, selected, params, join_params = [], [], [], []
        for i, ((form, visit, _prefix), (exprs, expr_params)) in enumerate(
            zip(self.entries, self.form_exprs, strict=True)
        ):
            selected += exprs
            params += expr_params
            joins.append(
                f"LEFT JOIN {records} f{i} ON f{i}.participant_id = p.id AND f{i}.form_code = %s "
                f"AND f{i}.visit_code = %s"
            )
            join_params += [form.code, visit]
        if self.has_endpoint:
            # The endpoint service's own query (its index date, last assessment and pending review per
            # participant), joined: one SELECT, so COPY of it does the same database work as the export.
            end_sql, end_params = self._endpoint_query(cut_at).query.sql_with_params()
            joins.append(f"LEFT JOIN ({end_sql}) e ON e.pk = p.id")
            join_params += [p.value if isinstance(p, enum.Enum) else p for p in end_params]
        codes = [form.code for form in self.forms]
        for form, group in self.GROUPS:
            selected.append(f"f{codes.index(form)}.data -> %s" if form in codes else "NULL")
            params += [group] if form in codes else []
        design = "".join(f"{expr}, " for _column, expr in self._design_columns())
        sql = f"""
            SELECT p.study_id, s.code, {design}sc.sex, sc.age, p.enrollment_date, p.consent_date, p.status,
                p.status_date, p.status_reason, {", ".join(selected)},
                (SELECT jsonb_object_agg(q.instrument || ' ' || v.code, round(q.score * 10)::int)
                    FROM {responses} q JOIN {visits} v ON v.id = q.visit_id
                    WHERE q.participant_id = p.id AND q.status = 'final' AND q.score IS NOT NULL),
                (SELECT jsonb_object_agg(v.code, jsonb_build_array(v.state, v.visit_date))
                    FROM {visits} v WHERE v.participant_id = p.id AND v.kind = 'scheduled')
                {ENDPOINT_COLUMNS if self.has_endpoint else ""}, p.id
            FROM {p} p JOIN {s} s ON s.id = p.site_id JOIN {sc} sc ON sc.id = p.screening_id
            {" ".join(joins)}
            WHERE s.study_id = %s AND p.created_at <= %s
            ORDER BY {ORDER_BY_SALT if salt else "p.study_id"}"""  # noqa: S608 (names from the models)
        return sql, [*params, *join_params, self.study.pk, cut_at, *([salt] if salt else [])]

    def table(self, *, cut_at: datetime.datetime, salt: str | None = None) -> Table:
        rows = self.rows(cut_at=cut_at, salt=salt)
        return Table("analysis", tuple(self.columns), rows, both(_("Analysis dataset")))

    def rows(self, *, cut_at: datetime.datetime, salt: str | None = None) -> Iterator[tuple]:
        """Run inside the caller's transaction (the export's snapshot): one server-side cursor, and the final
        adjudicated fractures read once before it."""
        judge = self._endpoint_judge(cut_at) if self.has_endpoint else None
        sql, params = self.sql(cut_at=cut_at, salt=salt)
        connection = read_connection()  # the snapshot's: the replica's when it reads there
        connection.ensure_connection()
        with connection.connection.cursor(name="export_analysis") as cursor:
            cursor.itersize = BATCH
            cursor.execute(sql, params)
            for record in cursor:
                yield self._row(record, judge(record) if judge else None)

    def _sites_and_day(self, cut_at) -> tuple[list, datetime.date]:
        """The study's sites (read once per dataset) and the day the cut falls on at every one of them."""
        if self._sites is None:
            self._sites = list(Site.objects.filter(study=self.study))
        return self._sites, study_today(sites=self._sites, at=cut_at)

    def _endpoint_query(self, cut_at):
        sites, day = self._sites_and_day(cut_at)
        settings = endpoint_settings(study=self.study)
        participants = Participant.objects.filter(site__in=sites)
        return endpoint_participants(settings=settings, data_cut=day, participants=participants).order_by()

    def _endpoint_judge(self, cut_at):
        """record -> its EndpointRow, by the endpoint service's rule (endpoint_rows), one participant at a
        time from the joined columns (the last four of the record)."""
        sites, day = self._sites_and_day(cut_at)
        settings = endpoint_settings(study=self.study)
        fractures = endpoint_fractures(AdjudicationCase.objects.filter(site__in=sites))

        def judge(record):
            index_value, last_assessed, pending, pk = record[-4:]  # the id is read, never exported
            participant = {
                "pk": pk,
                "study_id": record[0],
                "site_code": record[1],
                "status": record[6],
                "status_date": record[7],
                "index_value": index_value,
                "last_assessed": last_assessed,
                "adjudication_pending": pending,
            }
            return next(
                endpoint_rows(
                    settings=settings, data_cut=day, participants=[participant], fractures=fractures
                )
            )

        return judge

    def _row(self, record, end) -> tuple:
        n = self.n_fields
        out = list(record[:n])
        fractures, levels, vertebrae = (rows_of(json_value(value)) for value in record[n : n + 3])
        scores, visits = record[n + 3], record[n + 4]
        out += self._derived(out, fractures, levels, vertebrae)
        out += self._scores(json_value(scores) or {})
        if self.has_endpoint:
            out += [
                end.index_date,
                end.event,
                end.event_date or end.censor_date,
                end.days,
                end.location,
                " ".join(end.levels) or None,
                end.censor_reason,
                end.adjudication_pending,
            ]
        out += self._visits(json_value(visits) or {})
        return tuple(out)

    def _derived(self, out: list, fractures: list, levels: list, vertebrae: list) -> list:
        """The derived values from the typed columns in `out` and the repeating groups' rows; None where the
        form they come from has no record."""
        has = {code: out[i] is not None for code, i in self.status_at.items()}
        derived = []
        if "dxa" in has:
            found = [out[i] for i in self.t_scores_at if out[i] is not None]
            derived.append(min(found) if found else None)
        if "fracture_levels" in has:
            fractured = [row.get("level") for row in fractures]
            derived += (
                [len(fractured), " ".join(filter(None, fractured))]
                if has["fracture_levels"]
                else [None, None]
            )
        if "procedure" in has:
            rows = levels
            summary = procedure_summary(rows)
            intradiscal = any(
                "intradiscal" in (row.get("leakage_location") or []) or "D" in (row.get("leakage_type") or [])
                for row in rows
            )
            derived += (
                [
                    len(rows),
                    " ".join(filter(None, (row.get("level") for row in rows))),
                    summary["cement_volume"],
                    summary["leakage"],
                    intradiscal if rows else None,
                ]
                if has["procedure"]
                else [None] * 5
            )
        if "qmri" in has:
            by_level = {row.get("level"): row for row in vertebrae}
            means = qmri_means(vertebrae)
            for key in ("pdff", "r2star"):
                derived += [
                    number(by_level[level].get(key)) if level in by_level else None
                    for level in self.qmri_levels
                ]
                derived.append(None if means[key] is None else round(means[key], 3))
        return derived

    def _scores(self, scores: dict) -> list:
        """Scores (read in tenths, as integers) per visit, and from the second visit on the change from
        baseline and the MCID flags: followup.instruments.mcid's rule in integer tenths (exact, and a fifth of
        the time of Decimal at 56,000 participants; tests check the two agree)."""
        out = []
        for code, visits, has_baseline, mcid_tenths, lower_is_better in self.instruments_rule:
            baseline = scores.get(f"{code} {visits[0]}")
            for i, visit in enumerate(visits):
                value = scores.get(f"{code} {visit}")
                out.append(None if value is None else value / 10)
                if not i or not has_baseline:
                    continue
                if value is None or baseline is None:
                    out += [None, None, None]
                    continue
                improvement = baseline - value if lower_is_better else value - baseline
                out += [
                    (value - baseline) / 10,
                    improvement >= mcid_tenths,
                    baseline != 0 and improvement * 100 >= RELATIVE_MCID_PERCENT * baseline,
                ]
        return out

    def _visits(self, visits: dict) -> list:
        out, completed, missed = [], 0, 0
        for visit in self.schedule:
            state, date = visits.get(visit["code"], (None, None))
            out += [state, date_value(date)]
            completed += state == VisitState.COMPLETED
            missed += state == VisitState.MISSED
        return [*out, completed, missed]
