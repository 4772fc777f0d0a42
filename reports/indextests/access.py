"""Who reads and writes model outputs: one check for the API, the pages and the services.

- Read (the imports, their rows, the heatmaps, the lock): the study's principal investigators, monitors and
  data managers, study-wide.
- Import, attach a heatmap: data managers. Lock the analysis: data managers and principal investigators.
- A user who cannot see the study at all gets a 404: an adjudicator reads the reference standard and must
  never learn that a model output exists (STARD 2015 item 13). Site staff and one-site roles get a 403.
  Superusers are not exempt: an import is made and read by a named role.
"""

from django.utils.translation import gettext as _

from trial.access import role_names
from trial.errors import Forbidden
from trial.models import Role, Study

from ..access import holds_study_role, visible_study

READ_ROLES = frozenset({Role.PRINCIPAL_INVESTIGATOR, Role.MONITOR, Role.DATA_MANAGER})
IMPORT_ROLES = frozenset({Role.DATA_MANAGER})
LOCK_ROLES = frozenset({Role.DATA_MANAGER, Role.PRINCIPAL_INVESTIGATOR})


def require_study_role(user, study: Study, roles: frozenset[str]) -> None:
    """403 unless the user holds one of `roles` study-wide in the study."""
    if not holds_study_role(user, study, roles):
        raise Forbidden(
            _("Only the study-wide %(roles)s of study %(study)s can do this with model outputs.")
            % {"roles": role_names(roles), "study": study.code}
        )


def outputs_study(user, code: str, *, roles: frozenset[str] = READ_ROLES) -> Study:
    """The study `code` for a user who holds one of `roles` study-wide; 404 if they cannot see it, else 403.
    One query (the roles, once read, are kept for the request)."""
    study = visible_study(user, code)
    require_study_role(user, study, roles)
    return study
