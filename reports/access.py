"""Who reads reports: the study's principal investigators and data managers, study-wide (a report covers
every site). One check for the API, the pages and the services.

A study the user cannot see at all is a 404 (a blinded adjudicator must learn nothing, not even that a report
exists); one they see without the role (site staff, a monitor, a PI or data manager of one site) is a 403.
Superusers are not exempt: they read every site, but a report is requested and downloaded by a named role.
"""

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from trial.access import user_roles, visible_sites
from trial.errors import Forbidden
from trial.models import Role, StaffRole, Study

REPORT_ROLES = frozenset({Role.PRINCIPAL_INVESTIGATOR, Role.DATA_MANAGER})
DOWNLOAD_LOG_ROLES = frozenset({Role.DATA_MANAGER})


def _studies_with(user, roles: frozenset[str]) -> QuerySet:
    if not user.is_authenticated:
        return Study.objects.none()
    held = StaffRole.objects.filter(user=user, active=True, site__isnull=True, role__in=roles)
    return Study.objects.filter(pk__in=held.values("study"))


def report_studies(user) -> QuerySet:
    """The studies whose reports the user requests, reads and downloads (a subquery-backed queryset)."""
    return _studies_with(user, REPORT_ROLES)


def visible_study(user, code: str) -> Study:
    """The study `code` if the user sees it at all, else 404 (a blinded reader learns nothing). One query."""
    study = (
        Study.objects.select_related("current_version")
        .filter(code=code, pk__in=visible_sites(user).values("study"))
        .first()
    )
    if study is None:
        raise Http404(_("Unknown study."))
    return study


def holds_study_role(user, study: Study, roles: frozenset[str]) -> bool:
    """Whether the user holds one of `roles` study-wide in the study. The user's roles as the request has
    read them (trial.access.user_roles: no query once read)."""
    return any(role in roles and not site and held == study.pk for role, held, site in user_roles(user))


def report_study(user, code: str, *, roles: frozenset[str] = REPORT_ROLES) -> Study:
    """The study `code` if the user holds one of `roles` study-wide; 404 if they cannot see it, else 403.
    One query (the roles are those the request has read)."""
    study = visible_study(user, code)
    require_report_role(user, study, roles=roles)
    return study


def require_report_role(user, study: Study, *, roles: frozenset[str] = REPORT_ROLES) -> None:
    """Refuse (403) unless the user holds one of `roles` study-wide in the study."""
    if not holds_study_role(user, study, roles):
        if roles == DOWNLOAD_LOG_ROLES:
            message = _("Only the data managers of study %(study)s can read its download log.")
        else:
            message = _(
                "Only the principal investigators and data managers of study %(study)s can generate, read "
                "and download its reports."
            )
        raise Forbidden(message % {"study": study.code})


def study_visible(user, study: Study) -> bool:
    """Whether the user sees the study at all (else a job of it is a 404). One query."""
    return visible_sites(user).filter(study=study).exists()


def can_read_download_log(user, study: Study) -> bool:
    """Whether the user reads the study's download log (a data manager, study-wide). One query."""
    return _studies_with(user, DOWNLOAD_LOG_ROLES).filter(pk=study.pk).exists()
