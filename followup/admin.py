"""Follow-up records are read-only in the admin: visits, questionnaires and links change through services
that ask for reasons, adjudication cases follow the MRI form, and wording files are loaded by a command.

A patient link's key hash is never shown: it rebuilds no link, but no one needs to read it. An instrument
text shows which file was loaded (instrument, version, language, hash), never its licensed wording.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from trial.admin import ReadOnlyAdmin, column, participant_column

from .models import (
    AdjudicationCase,
    CaseAssignment,
    CaseEvidence,
    InstrumentText,
    PatientLink,
    QuestionnaireResponse,
    Verdict,
    Visit,
)


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = [
        participant_column("participant"),
        "code",
        "kind",
        "target_date",
        "window_open",
        "window_close",
        "state",
        "visit_date",
    ]
    list_filter = ["state", "kind", "code"]
    list_select_related = ["participant"]
    search_fields = ["participant__study_id"]


@admin.register(QuestionnaireResponse)
class QuestionnaireResponseAdmin(ReadOnlyAdmin):
    list_display = [
        participant_column("participant"),
        column("visit__code", _("visit")),
        "instrument",
        "source",
        "status",
        "score",
        "completed_on",
    ]
    list_filter = ["instrument", "status", "source"]
    list_select_related = ["participant", "visit"]
    search_fields = ["participant__study_id"]


@admin.register(PatientLink)
class PatientLinkAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        participant_column("response__participant"),
        column("response__instrument", _("instrument")),
        "language",
        "expires_at",
        "used_at",
        "revoked_at",
    ]
    list_filter = ["language"]
    list_select_related = ["response__participant"]
    search_fields = ["response__participant__study_id"]
    exclude = ["key_sha256"]


@admin.register(AdjudicationCase)
class AdjudicationCaseAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        participant_column("participant"),
        column("visit__code", _("visit")),
        "level",
        "location",
        "exam_date",
        "origin",
        "status",
        "round",
    ]
    list_filter = ["status", "location", "origin"]
    list_select_related = ["participant", "visit"]
    search_fields = ["participant__study_id"]


@admin.register(CaseEvidence)
class CaseEvidenceAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "modality", "exam_date", "location", "active", "created_at", "withdrawn_at"]
    list_filter = ["modality", "active"]
    list_select_related = ["case"]


@admin.register(CaseAssignment)
class CaseAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "slot", "reader", "active", "assigned_at", "ended_at"]
    list_filter = ["slot", "active"]
    list_select_related = ["case", "reader"]


@admin.register(Verdict)
class VerdictAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "case",
        "round",
        "fracture",
        "genant_grade",
        "confidence",
        "printed_name",
        "signed_at",
    ]
    list_filter = ["fracture", "confidence"]
    list_select_related = ["case"]


@admin.register(InstrumentText)
class InstrumentTextAdmin(ReadOnlyAdmin):
    list_display = ["instrument", "instrument_version", "language", "file_sha256", "loaded"]
    list_filter = ["instrument", "language"]
    fields = ["instrument", "instrument_version", "language", "file_sha256", "loaded"]
    readonly_fields = ["file_sha256", "loaded"]

    @admin.display(description=_("SHA-256 of the loaded file"))
    def file_sha256(self, text: InstrumentText) -> str:
        return text.source_sha256

    @admin.display(description=_("loaded at"), ordering="loaded_at")
    def loaded(self, text: InstrumentText):
        return text.loaded_at
