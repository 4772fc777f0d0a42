"""CRF records and queries are read-only in the admin: they change through services that ask for reasons."""

from django.contrib import admin

from trial.admin import ReadOnlyAdmin

from .models import DataQuery, FormRecord, Signature


@admin.register(FormRecord)
class FormRecordAdmin(ReadOnlyAdmin):
    list_display = ["participant", "form_code", "visit_code", "status", "version", "updated_at"]
    list_filter = ["form_code", "status"]
    list_select_related = ["participant"]
    search_fields = ["participant__study_id"]


@admin.register(DataQuery)
class DataQueryAdmin(ReadOnlyAdmin):
    list_display = ["id", "record", "field_path", "check_code", "auto", "status", "created_at"]
    list_filter = ["status", "auto", "record__form_code"]
    list_select_related = ["record__participant"]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["record", "printed_name", "meaning", "signed_at", "invalidated_at"]
    list_select_related = ["record__participant"]
