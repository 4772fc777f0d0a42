"""Admin for setup: studies, sites, staff roles. Research data is read-only here: it changes through services,
which ask for reasons. Identifying data is not registered at all."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox import admin as _knox_admin  # noqa: F401 -- registers knox's admin now, so that it can be replaced
from knox.models import AuthToken

from .models import Criterion, Participant, ProtocolVersion, Screening, Site, StaffRole, Study
from .services.tokens import api_tokens_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def column(path: str, description):
    """A list column with the value at `path` ("visit__code", "site") under a translated heading: a foreign
    key's own heading is its field name, untranslated, and a path's is the path. list_select_related must name
    the path's relations, so that the list runs no query per row."""
    *relations, name = path.split("__")

    @admin.display(description=description, ordering=path)
    def value(row):
        for relation in relations:
            row = getattr(row, relation)
            if row is None:
                return None
        # A field with choices shows its label, as Django's own columns do.
        label = getattr(row, f"get_{name}_display", None)
        return label() if label else getattr(row, name)

    value.__name__ = path  # the column's CSS class
    return value


def participant_column(path: str = "participant"):
    """The study ID of the participant reached through `path` ("response__participant")."""
    return column(f"{path}__study_id", _("participant"))


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
    list_display = ["code", "sponsor", column("current_version", _("protocol version"))]
    list_select_related = ["current_version__study"]


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ReadOnlyAdmin):
    list_display = [
        column("study", _("study")),
        "number",
        "label",
        "effective_date",
        "target_enrollment",
        column("loaded_at", _("loaded at")),
    ]
    list_select_related = ["study"]
    inlines = [CriterionInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", column("study", _("study")), "time_zone", "active"]
    list_filter = ["study", "active"]
    list_select_related = ["study"]

    def get_readonly_fields(self, request, obj=None):
        # The code prefixes study IDs already handed out, and screenings point at the study: fixed once saved.
        return ["code", "study"] if obj else []


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = [
        column("user", _("user")),
        column("study", _("study")),
        column("site", _("site")),
        "role",
        "active",
    ]
    list_filter = ["study", "role", "active"]
    list_select_related = ["user", "study", "site"]
    autocomplete_fields = ["user"]


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        column("site", _("site")),
        "screening_date",
        "outcome",
        column("protocol_version", _("protocol version")),
    ]
    list_filter = ["study", "site", "outcome"]
    list_select_related = ["site", "protocol_version__study"]


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ["study_id", column("site", _("site")), "enrollment_date", "status"]
    list_filter = ["site", "status"]
    list_select_related = ["site"]


# Second factors change only through trial/twofactor.py: enrolment by the user, resets by a data manager or an
# administrator at /two-factor/reset/, each with its TwoFactorEvent in the audit trail. django-otp's own admin
# pages would let a device be added (with a key the adder knows) or deleted with no such record.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)
# API tokens (knox): the admin lists them and deletes them (revocation), nothing else. knox's own admin would
# also issue a token for any user and show it, which lets an admin act through the API as someone else.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = [column("user", _("user")), "created", "expiry"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    fields = ["user", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TokenRevokingPasswordForm(AdminPasswordChangeForm):
    """An administrator's password reset ends the user's API tokens, as the user's own change does
    (trial/views/account.py): a token issued with a leaked password must not outlive it."""

    def save(self, commit=True):
        user = super().save(commit)
        api_tokens_revoke(user=user)
        return user


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class StaffUserAdmin(UserAdmin):
    change_password_form = TokenRevokingPasswordForm
