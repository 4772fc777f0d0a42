"""Who reads and who works on a study's risk models: one check for the API, the pages and the services.

- Read (the models, their figures and reports, validations, the calculator): the study's principal
  investigators, data managers and monitors, and its investigators (at their site: a model is an aggregate
  of every site, with no participant in it).
- Develop, freeze, validate, re-render a report: principal investigators and data managers, study-wide.
- Coordinators get a 403. Adjudicators see nothing (a 404): they judge the endpoint blind to the predictors
  and must not learn what a model makes of them. Patients never reach these pages.
- Superusers are not exempt: a model is developed, frozen and read by a named role.
"""

from django.utils.translation import gettext as _

from trial.access import role_names, user_roles
from trial.errors import Forbidden
from trial.models import Role, Study

from ..access import holds_study_role, visible_study

READ_ROLES = frozenset({Role.PRINCIPAL_INVESTIGATOR, Role.DATA_MANAGER, Role.MONITOR, Role.INVESTIGATOR})
WORK_ROLES = frozenset({Role.PRINCIPAL_INVESTIGATOR, Role.DATA_MANAGER})


def can_read(user, study: Study) -> bool:
    """Whether the user holds a reading role in the study, at a site or study-wide (no query once the
    request has read the user's roles)."""
    return any(role in READ_ROLES and held == study.pk for role, held, _site in user_roles(user))


def can_work(user, study: Study) -> bool:
    """Whether the user develops, freezes and validates the study's models (study-wide PI or data manager)."""
    return holds_study_role(user, study, WORK_ROLES)


def require_read(user, study: Study) -> None:
    if not can_read(user, study):
        raise Forbidden(
            _("Only the %(roles)s of study %(study)s read its risk models.")
            % {"roles": role_names(READ_ROLES), "study": study.code}
        )


def require_work(user, study: Study) -> None:
    if not can_work(user, study):
        raise Forbidden(
            _(
                "Only the study-wide principal investigators and data managers of study %(study)s develop, "
                "freeze and validate its risk models."
            )
            % {"study": study.code}
        )


def risk_study(user, code: str, *, work: bool = False) -> Study:
    """The study `code` for a reader (or, `work`, a developer) of its risk models: 404 if the user cannot see
    the study at all (an adjudicator), else 403 without the role."""
    study = visible_study(user, code)
    (require_work if work else require_read)(user, study)
    return study
