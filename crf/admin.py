"""CRF records and queries are read-only in the admin: they change through services that ask for reasons."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from trial.admin import ReadOnlyAdmin, column, participant_column

from .models import DataQuery, FormRecord, Signature


@admin.register(FormRecord)
class FormRecordAdmin(ReadOnlyAdmin):
    list_display = [
        participant_column(),
        "form_code",
        "visit_code",
        "status",
        column("version", _("version")),
        column("updated_at", _("updated at")),
    ]
    list_filter = ["form_code", "status"]
    list_select_related = ["participant"]
    search_fields = ["participant__study_id"]


@admin.register(DataQuery)
class DataQueryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        column("record", _("form record")),
        "field_path",
        "check_code",
        "auto",
        "status",
        column("created_at", _("created at")),
    ]
    list_filter = ["status", "auto", "record__form_code"]
    list_select_related = ["record__participant"]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = [
        column("record", _("form record")),
        "printed_name",
        "meaning",
        "signed_at",
        "invalidated_at",
    ]
    list_select_related = ["record__participant"]
