"""Admin for setup: studies, sites, staff roles. Research data is read-only here: it changes through services,
which ask for reasons. Identifying data is not registered at all."""

from django.contrib import admin

from .models import Criterion, Participant, ProtocolVersion, Screening, Site, StaffRole, Study


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CriterionInline(admin.TabularInline):
    model = Criterion
    fields = ["order", "code", "kind", "text", "rule"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Study)
class StudyAdmin(ReadOnlyAdmin):
    list_display = ["code", "sponsor", "current_version"]
    list_select_related = ["current_version__study"]


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ReadOnlyAdmin):
    list_display = ["study", "number", "label", "effective_date", "target_enrollment", "loaded_at"]
    list_select_related = ["study"]
    inlines = [CriterionInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "study", "time_zone", "active"]
    list_filter = ["study", "active"]
    list_select_related = ["study"]

    def get_readonly_fields(self, request, obj=None):
        # The code prefixes study IDs already handed out, and screenings point at the study: fixed once saved.
        return ["code", "study"] if obj else []


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "study", "site", "role", "active"]
    list_filter = ["study", "role", "active"]
    list_select_related = ["user", "study", "site"]
    autocomplete_fields = ["user"]


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    list_display = ["id", "site", "screening_date", "outcome", "protocol_version"]
    list_filter = ["study", "site", "outcome"]
    list_select_related = ["site", "protocol_version__study"]


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ["study_id", "site", "enrollment_date", "status"]
    list_filter = ["site", "status"]
    list_select_related = ["site"]
