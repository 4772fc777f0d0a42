"""The permission matrix: for every URL (by its name), who may read it and who may write to it, declared as
data and enforced before any view runs.

Two layers, each in one place:
- **The role** (this module): a request by a user who holds none of the roles the matrix names for the URL
  and method is refused before the view runs: by `PermissionMatrixMiddleware` for the pages and the admin,
  and by config.api_permissions.MatrixPermission (DRF's default permission class) for the API, after DRF
  has authenticated the token. The refusal does not look at the object the URL names: it is the same whether
  the object exists or not.
- **The site** (trial/access.py, reports/access.py, the selectors and services): which sites' records a role
  opens (own site, study-wide), who acts where. `Rule.scope` says which rule of theirs applies; the walk
  (tests/test_permission_matrix.py) checks both layers for every URL and every persona.

Who the matrix names: the roles of trial.models.Role (held anywhere, at a site or study-wide), SUPERUSER
(reads every site, acts nowhere without a role), STAFF (the admin), SIGNED_IN (any signed-in user) and
ANYONE (no sign-in: health, sign-in, a patient's link, whose token is the credential).

Adding a URL: add its name (with its namespace, "api:..." for the API) to MATRIX with a Rule. A URL missing
from MATRIX is refused to everyone (fail closed) and fails the walk, which collects every pattern from the URL
configuration. The admin is one entry ("admin:*"): Django's model permissions decide inside it.
"""

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponseNotAllowed
from django.urls import ResolverMatch, reverse
from django.utils.translation import gettext as _

from crf.services.common import MONITOR_ROLES, SIGNING_ROLES
from reports.access import REPORT_ROLES
from reports.indextests import access as index_tests
from reports.riskmodel import access as risk_models
from trial.access import role_names, user_roles
from trial.errors import Forbidden
from trial.models import Role
from trial.pages import error_page

logger = logging.getLogger(__name__)

ANYONE = "anyone"
SIGNED_IN = "signed_in"
SUPERUSER = "superuser"
STAFF = "staff"

COORDINATOR, INVESTIGATOR = Role.COORDINATOR.value, Role.INVESTIGATOR.value
PI, MONITOR = Role.PRINCIPAL_INVESTIGATOR.value, Role.MONITOR.value
DATA_MANAGER, ADJUDICATOR = Role.DATA_MANAGER.value, Role.ADJUDICATOR.value

SITE_STAFF = frozenset({COORDINATOR, INVESTIGATOR})  # enter data at their own site
OVERSIGHT = frozenset({PI, MONITOR, DATA_MANAGER})
# Who reads research data: everyone but adjudicators, who judge outcomes blind to the predictors (TRIPOD),
# and superusers (every site; trial.access).
READERS = SITE_STAFF | OVERSIGHT | {SUPERUSER}
# The services' own role sets, read here so that the matrix cannot drift from them.
QUERY_RAISERS = frozenset(role.value for role in MONITOR_ROLES)  # raise, close, reopen queries
FORM_STEPPERS = SITE_STAFF | QUERY_RAISERS  # complete (site staff), verify (monitor), lock/unlock (DM)
SIGNERS = frozenset(role.value for role in SIGNING_ROLES)
REPORTERS = frozenset(role.value for role in REPORT_ROLES)  # study-wide
# followup.messaging.services: a site's messages by its staff and data managers (ACTING_ROLES), a digest
# (no site) by its reader, a principal investigator's weekly one included.
MESSAGE_ACTORS = SITE_STAFF | {DATA_MANAGER, PI}
READERS_OF_CASES = frozenset({ADJUDICATOR})
# Model outputs (reports/indextests/access.py): hidden from adjudicators (STARD 2015 item 13).
OUTPUT_READERS = frozenset(role.value for role in index_tests.READ_ROLES)
OUTPUT_IMPORTERS = frozenset(role.value for role in index_tests.IMPORT_ROLES)
ANALYSIS_LOCKERS = frozenset(role.value for role in index_tests.LOCK_ROLES)
# Risk models (reports/riskmodel/access.py): read by PIs, data managers, monitors and investigators (an
# aggregate of every site, no participant in it); developed, frozen and validated by study-wide PIs and data
# managers; hidden from adjudicators (blind to the predictors).
RISK_MODEL_READERS = frozenset(role.value for role in risk_models.READ_ROLES)
RISK_MODEL_WORKERS = frozenset(role.value for role in risk_models.WORK_ROLES)


class Scope(enum.StrEnum):
    """Which sites' records a permitted role opens (enforced by trial/access.py and its callers)."""

    NONE = "none"  # no participant's record: protocol data, the user's own settings, public pages
    SITE = "site"  # the records of the user's sites (study-wide roles: every site); others are a 404
    STUDY = "study"  # study-wide roles only (reports): a role held at one site is a 403
    OWN = "own"  # the user's own (an adjudicator's assigned cases): anyone else's is a 404
    TOKEN = "token"  # noqa: S105 -- a patient's link: the token is the credential; an unknown one is a 404


@dataclass(frozen=True)
class Rule:
    """Who reads (GET, HEAD, OPTIONS) and who writes (POST, PUT, PATCH, DELETE) at a URL.

    `write` None: the URL takes no write (a write is a 405 for those who may read it). `hidden`: research
    data, which a blinded adjudicator must not learn exists: those who may not read it get a 404 if they read
    no research data at all (or the record is another's own, Scope.OWN), else a 403.
    """

    read: frozenset[str]
    write: frozenset[str] | None = None
    scope: Scope = Scope.NONE
    hidden: bool = False

    def names_for(self, method: str) -> frozenset[str]:
        """Who may use `method` here (a write where the URL takes none: those who read it, to get a 405)."""
        return self.read if method in SAFE_METHODS or self.write is None else self.write


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def rule(read: Iterable[str], write: Iterable[str] | None = None, scope: Scope = Scope.NONE) -> Rule:
    """A Rule; research data (a scope other than NONE, TOKEN) is hidden from those who may not read it."""
    return Rule(
        read=frozenset(read),
        write=None if write is None else frozenset(write),
        scope=scope,
        hidden=scope in (Scope.SITE, Scope.STUDY, Scope.OWN),
    )


PUBLIC = rule({ANYONE}, {ANYONE})
SITE = Scope.SITE

# URLs routed only when a setting asks (the walk, which sees the URL configuration of the tests, skips them).
ROUTED_BY_SETTING = frozenset({"bench-floor"})

MATRIX: dict[str, Rule] = {
    # --- public: health, sign-in, language, the token endpoint ------------------------------------------
    "health": rule({ANYONE}),
    "health-worker": rule({ANYONE}),
    "set_language": PUBLIC,
    "login": PUBLIC,
    "logout": PUBLIC,
    "api:api-token": PUBLIC,
    # The load test's floor (config/bench_floor.py), routed only with BENCH_FLOOR_ENDPOINT (ROUTED_BY_SETTING)
    "bench-floor": rule({SIGNED_IN}),
    # --- one's own account: password, second factor, API tokens (the token views authenticate the token) ---
    "password-change": rule({SIGNED_IN}, {SIGNED_IN}, Scope.OWN),
    "two-factor": rule({SIGNED_IN}, scope=Scope.OWN),
    "two-factor-setup": rule({SIGNED_IN}, {SIGNED_IN}, Scope.OWN),
    "two-factor-verify": rule({SIGNED_IN}, {SIGNED_IN}, Scope.OWN),
    "two-factor-recovery": rule({SIGNED_IN}, {SIGNED_IN}, Scope.OWN),
    "api:api-logout": rule({SIGNED_IN}, {SIGNED_IN}, Scope.OWN),
    "api:api-logout-all": rule({SIGNED_IN}, {SIGNED_IN}, Scope.OWN),
    # Resetting another user's second factor (a lost phone): a data manager of one of the user's studies or
    # a superuser (trial.twofactor.may_reset; anyone else's user is a 404).
    "two-factor-reset-list": rule({DATA_MANAGER, SUPERUSER}),
    "two-factor-reset": rule({DATA_MANAGER, SUPERUSER}, {DATA_MANAGER, SUPERUSER}),
    # Who read identifying data: data managers (their sites) and superusers (trial.identity_reads).
    "identity-log": rule({DATA_MANAGER, SUPERUSER}, scope=SITE),
    "api:identity-log-api": rule({DATA_MANAGER, SUPERUSER}, scope=SITE),
    # --- a patient's questionnaire link: no sign-in, the token is the credential --------------------------
    "patient-questionnaire": rule({ANYONE}, {ANYONE}, Scope.TOKEN),
    "patient-opt-out": rule({ANYONE}, {ANYONE}, Scope.TOKEN),
    "api:patient-link": rule({ANYONE}, {ANYONE}, Scope.TOKEN),
    # --- any signed-in user: the shell, the API's description, the protocol's definitions -----------------
    "dashboard": rule({SIGNED_IN}),  # an adjudicator's shows their queue's counts only
    "schema": rule({SIGNED_IN}),
    "api-docs": rule({SIGNED_IN}),
    "api:api-root": rule({SIGNED_IN}),
    "api:data-dictionary": rule({SIGNED_IN}),
    "api:instrument-list": rule({SIGNED_IN}),
    "api:instrument-score": rule({SIGNED_IN}, {SIGNED_IN}),  # stateless scoring, saves nothing
    "digest-settings": rule({SIGNED_IN}, {SIGNED_IN}, Scope.OWN),  # one's own digests
    "api:digest-settings": rule({SIGNED_IN}, {SIGNED_IN}, Scope.OWN),
    # --- studies, screening, participants (trial) ---------------------------------------------------------
    "api:study-list": rule(READERS),
    # A study is seen by everyone with a role in it; its flow counts only the user's sites (selectors).
    "api:study-detail": rule(READERS),
    "api:study-eligibility": rule(READERS, SITE_STAFF),  # the screening form's live verdict, saves nothing
    "api:study-flow": rule(READERS),
    "api:screening-list": rule(READERS, SITE_STAFF),
    "api:screening-detail": rule(READERS, SITE_STAFF, SITE),
    "api:screening-enroll": rule(READERS, SITE_STAFF, SITE),
    "api:screening-history": rule(READERS, scope=SITE),
    # Imaging exams: registered by the site's staff and by data managers (trial.services.imaging).
    "api:screening-exams": rule(READERS, SITE_STAFF | {DATA_MANAGER}, SITE),
    "api:participant-exams": rule(READERS, SITE_STAFF | {DATA_MANAGER}, SITE),
    "api:participant-list": rule(READERS),
    "api:participant-detail": rule(READERS, scope=SITE),
    "api:participant-history": rule(READERS, scope=SITE),
    "api:participant-died": rule(READERS, SITE_STAFF, SITE),
    "api:participant-lost-to-follow-up": rule(READERS, SITE_STAFF, SITE),
    "api:participant-withdraw": rule(READERS, SITE_STAFF, SITE),
    "api:participant-reinstate": rule(READERS, SITE_STAFF, SITE),
    # Identifying data: the participant's own site staff only (trial.access.identity_sites).
    "api:participant-identity": rule(SITE_STAFF, SITE_STAFF, SITE),
    "api:participant-opt-outs": rule(SITE_STAFF, SITE_STAFF, SITE),
    "api:participant-opt-out-end": rule(SITE_STAFF, SITE_STAFF, SITE),
    "screening-log": rule(READERS),
    "screening-new": rule(SITE_STAFF, SITE_STAFF),
    "screening-detail": rule(READERS, scope=SITE),
    "screening-enroll": rule(READERS, SITE_STAFF, SITE),
    "screening-correct": rule(READERS, SITE_STAFF, SITE),
    "participant-list": rule(READERS),
    "participant-detail": rule(READERS, scope=SITE),
    "participant-status": rule(READERS, SITE_STAFF, SITE),
    "participant-exams": rule(READERS, SITE_STAFF | {DATA_MANAGER}, SITE),  # follow-up imaging exams
    # --- forms and data queries (crf) ---------------------------------------------------------------------
    "api:form-grid": rule(READERS, scope=SITE),
    "api:form": rule(READERS, SITE_STAFF, SITE),
    "api:form-history": rule(READERS, scope=SITE),
    "api:form-sign": rule(READERS, SIGNERS, SITE),
    "api:form-transition": rule(READERS, FORM_STEPPERS, SITE),
    "api:visit-form": rule(READERS, SITE_STAFF, SITE),
    "api:visit-form-history": rule(READERS, scope=SITE),
    "api:visit-form-sign": rule(READERS, SIGNERS, SITE),
    "api:visit-form-transition": rule(READERS, FORM_STEPPERS, SITE),
    "api:query-list": rule(READERS, QUERY_RAISERS),  # POST: raise a query
    "api:query-detail": rule(READERS, scope=SITE),
    "api:query-answer": rule(READERS, SITE_STAFF, SITE),
    "api:query-close": rule(READERS, QUERY_RAISERS, SITE),
    "api:query-reopen": rule(READERS, QUERY_RAISERS, SITE),
    "participant-forms": rule(READERS, scope=SITE),
    "crf-form": rule(READERS, SITE_STAFF, SITE),
    "crf-step": rule(READERS, FORM_STEPPERS, SITE),
    "crf-sign": rule(READERS, SIGNERS, SITE),
    "crf-query-raise": rule(READERS, QUERY_RAISERS, SITE),
    "crf-query-step": rule(READERS, FORM_STEPPERS, SITE),  # answer (site staff), close, reopen (M, DM)
    "crf-visit-form": rule(READERS, SITE_STAFF, SITE),
    "crf-visit-step": rule(READERS, FORM_STEPPERS, SITE),
    "crf-visit-sign": rule(READERS, SIGNERS, SITE),
    "crf-visit-query-raise": rule(READERS, QUERY_RAISERS, SITE),
    "crf-visit-query-step": rule(READERS, FORM_STEPPERS, SITE),
    "query-list": rule(READERS),
    # --- visits, questionnaires, patient links, messages (followup) ----------------------------------------
    "api:visit-list": rule(READERS),
    "api:participant-visits": rule(READERS, SITE_STAFF, SITE),  # POST: an unscheduled visit
    "api:visit-detail": rule(READERS, scope=SITE),
    "api:visit-complete": rule(READERS, SITE_STAFF, SITE),
    "api:visit-missed": rule(READERS, SITE_STAFF, SITE),
    "api:visit-reopen": rule(READERS, SITE_STAFF, SITE),
    "api:participant-questionnaires": rule(READERS, scope=SITE),
    "api:visit-questionnaire": rule(READERS, SITE_STAFF, SITE),
    "api:questionnaire-link-issue": rule(READERS, SITE_STAFF, SITE),
    "api:questionnaire-link-revoke": rule(READERS, SITE_STAFF, SITE),
    "api:message-list": rule(READERS),
    "api:message-confirm": rule(READERS, MESSAGE_ACTORS, SITE),
    "api:message-resend": rule(READERS, MESSAGE_ACTORS, SITE),
    "visit-list": rule(READERS),
    "participant-timeline": rule(READERS, scope=SITE),
    "visit-unscheduled": rule(SITE_STAFF, SITE_STAFF, SITE),
    "visit-complete": rule(READERS, SITE_STAFF, SITE),
    "visit-missed": rule(READERS, SITE_STAFF, SITE),
    "visit-reopen": rule(READERS, SITE_STAFF, SITE),
    "questionnaire-entry": rule(READERS, SITE_STAFF, SITE),
    "questionnaire-link": rule(READERS, SITE_STAFF, SITE),
    "questionnaire-link-revoke": rule(READERS, SITE_STAFF, SITE),
    "message-confirm": rule(READERS, MESSAGE_ACTORS, SITE),
    "message-resend": rule(READERS, MESSAGE_ACTORS, SITE),
    "outbox": rule(READERS),
    # --- adjudication: the board (everyone but readers) and the readers' blind queue ------------------------
    "api:adjudication-case-list": rule(READERS, {DATA_MANAGER}),  # POST: a case opened by hand
    "api:adjudication-case-detail": rule(READERS, scope=SITE),
    "api:adjudication-case-assign": rule(READERS, {DATA_MANAGER}, SITE),
    "api:adjudication-case-reassign": rule(READERS, {DATA_MANAGER}, SITE),
    "api:adjudication-case-readers": rule({DATA_MANAGER}, scope=SITE),
    "api:adjudication-case-reopen": rule(READERS, {DATA_MANAGER}, SITE),
    "api:adjudication-evidence-withdraw": rule(READERS, {DATA_MANAGER}, SITE),
    "api:adjudication-queue": rule(READERS_OF_CASES),
    "api:adjudication-queue-counts": rule(READERS_OF_CASES),
    "api:adjudication-packet": rule(READERS_OF_CASES, scope=Scope.OWN),
    "api:adjudication-verdict": rule(READERS_OF_CASES, READERS_OF_CASES, Scope.OWN),
    "adjudication-board": rule(READERS),
    "adjudication-case-new": rule({DATA_MANAGER}, {DATA_MANAGER}),
    "adjudication-case": rule(READERS, scope=SITE),
    "adjudication-case-assign": rule(READERS, {DATA_MANAGER}, SITE),
    "adjudication-case-reassign": rule(READERS, {DATA_MANAGER}, SITE),
    "adjudication-case-reopen": rule(READERS, {DATA_MANAGER}, SITE),
    "adjudication-evidence-withdraw": rule(READERS, {DATA_MANAGER}, SITE),
    "adjudication-queue-page": rule(READERS_OF_CASES),
    "adjudication-review": rule(READERS_OF_CASES, READERS_OF_CASES, Scope.OWN),
    # --- the study's endpoint, reports and exports: study-wide PIs and data managers ------------------------
    "api:study-endpoint": rule(REPORTERS, scope=Scope.STUDY),
    "api:study-adjudication-agreement": rule(REPORTERS, scope=Scope.STUDY),
    "api:study-registered-cases-open": rule({DATA_MANAGER}, {DATA_MANAGER}, Scope.STUDY),
    "api:interim-report-request": rule(REPORTERS, REPORTERS, Scope.STUDY),
    "api:export-request": rule(REPORTERS, REPORTERS, Scope.STUDY),
    "api:accuracy-report-request": rule(REPORTERS, REPORTERS, Scope.STUDY),
    "api:study-jobs": rule(REPORTERS, scope=Scope.STUDY),
    "api:study-downloads": rule({DATA_MANAGER}, scope=Scope.STUDY),
    "api:job-detail": rule(REPORTERS, scope=Scope.STUDY),
    "api:job-download": rule(REPORTERS, scope=Scope.STUDY),
    "reports": rule(REPORTERS, REPORTERS, Scope.STUDY),
    "report-exports": rule(REPORTERS, REPORTERS, Scope.STUDY),
    "report-job": rule(REPORTERS, scope=Scope.STUDY),
    "report-job-download": rule(REPORTERS, scope=Scope.STUDY),
    "report-downloads": rule({DATA_MANAGER}, scope=Scope.STUDY),
    # --- an accuracy study's model outputs and analysis lock: study-wide readers, data managers import ------
    "api:model-imports": rule(OUTPUT_READERS, OUTPUT_IMPORTERS, Scope.STUDY),
    "api:model-import-outputs": rule(OUTPUT_READERS, scope=Scope.STUDY),
    "api:analysis-lock": rule(OUTPUT_READERS, ANALYSIS_LOCKERS, Scope.STUDY),
    "api:model-output-heatmap": rule(OUTPUT_READERS, OUTPUT_IMPORTERS, Scope.STUDY),
    "model-imports-page": rule(OUTPUT_READERS, OUTPUT_IMPORTERS, Scope.STUDY),
    "analysis-lock-page": rule(OUTPUT_READERS, ANALYSIS_LOCKERS, Scope.STUDY),
    "model-import-page": rule(OUTPUT_READERS, scope=Scope.STUDY),
    "model-output-heatmap": rule(OUTPUT_READERS, OUTPUT_IMPORTERS, Scope.STUDY),
    # --- the risk-model workbench: readers at a site or study-wide; study-wide PIs and DMs develop ---------
    "api:risk-models": rule(RISK_MODEL_READERS, RISK_MODEL_WORKERS, SITE),
    "api:risk-model-specs": rule(RISK_MODEL_READERS, scope=SITE),
    "api:risk-model": rule(RISK_MODEL_READERS, scope=SITE),
    "api:risk-model-freeze": rule(RISK_MODEL_READERS, RISK_MODEL_WORKERS, SITE),
    "api:risk-model-validations": rule(RISK_MODEL_READERS, RISK_MODEL_WORKERS, SITE),
    "api:risk-model-json": rule(RISK_MODEL_READERS, scope=SITE),
    "api:risk-model-result": rule(RISK_MODEL_READERS, scope=SITE),
    "api:risk-model-reports": rule(RISK_MODEL_READERS, RISK_MODEL_WORKERS, SITE),
    "api:risk-model-calculate": rule(RISK_MODEL_READERS, RISK_MODEL_READERS, SITE),
    "api:risk-validation": rule(RISK_MODEL_READERS, scope=SITE),
    "risk-models-page": rule(RISK_MODEL_READERS, RISK_MODEL_WORKERS, SITE),
    "risk-model-page": rule(RISK_MODEL_READERS, scope=SITE),
    "risk-model-freeze-page": rule(RISK_MODEL_READERS, RISK_MODEL_WORKERS, SITE),
    "risk-model-validate-page": rule(RISK_MODEL_READERS, RISK_MODEL_WORKERS, SITE),
    "risk-model-report-page": rule(RISK_MODEL_READERS, RISK_MODEL_WORKERS, SITE),
    "risk-model-calculator": rule(RISK_MODEL_READERS, RISK_MODEL_READERS, SITE),
    "risk-model-download": rule(RISK_MODEL_READERS, scope=SITE),
    "risk-validation-download": rule(RISK_MODEL_READERS, scope=SITE),
    "risk-model-job": rule(RISK_MODEL_READERS, scope=SITE),
    "risk-model-job-download": rule(RISK_MODEL_READERS, scope=SITE),
    # --- the admin: staff; Django's model permissions decide inside (research data is read-only there) ------
    "admin:login": PUBLIC,
    "admin:*": rule({STAFF}, {STAFF}),
}


def rule_for(match: ResolverMatch | None) -> Rule | None:
    """The URL's Rule: its own entry, else its namespace's "ns:*" entry; None if the matrix has neither."""
    if match is None:
        return None
    name = match.view_name
    if name in MATRIX:
        return MATRIX[name]
    return MATRIX.get(f"{match.namespace}:*") if match.namespace else None


ROLE_NAMES = frozenset(Role.values)


def holds(user, names: frozenset[str]) -> bool:
    """Whether the user is one of `names`. Roles are held anywhere (at a site or study-wide): the roles'
    query (trial.access.user_roles, one, kept on the user for the request) runs only when `names` needs
    it."""
    if ANYONE in names:
        return True
    if not user.is_authenticated:
        return False
    if SIGNED_IN in names or (SUPERUSER in names and user.is_superuser) or (STAFF in names and user.is_staff):
        return True
    roles = names & ROLE_NAMES
    return bool(roles) and any(role in roles for role, _study, _site in user_roles(user))


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    SIGN_IN = "sign in"  # anonymous: the page sends to the sign-in page, the API answers 401
    METHOD_NOT_ALLOWED = "method not allowed"  # a write where the URL takes none (write None)
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not found"


def judge(user, match: ResolverMatch | None, method: str) -> Verdict:
    """The matrix's answer to this user at this URL with this method (no query beyond the user's roles)."""
    found = rule_for(match)
    if found is None:
        # The URL's name only: its arguments may hold a patient-link token.
        name = match.view_name if match else None
        logger.error("URL %s is not in the permission matrix (config/permissions.py): refused", name)
        return Verdict.NOT_FOUND
    if holds(user, found.names_for(method)):
        if method not in SAFE_METHODS and found.write is None:
            return Verdict.METHOD_NOT_ALLOWED
        return Verdict.ALLOWED
    if not user.is_authenticated:
        return Verdict.SIGN_IN
    # Someone who reads no research data (an adjudicator) learns nothing, not even that the record exists;
    # so does anyone but its owner of an OWN record. A reader without the role is told so (403).
    hide = found.scope == Scope.OWN or not holds(user, READERS)
    if found.hidden and hide and not holds(user, found.read):
        return Verdict.NOT_FOUND
    return Verdict.FORBIDDEN


def refusal_message(match: ResolverMatch | None, method: str) -> str:
    """The refusal, in the user's language, naming the roles that may: "Only the investigator or principal
    investigator can do this." (the services' own refusals also name the site or study)."""
    found = rule_for(match)
    roles = found.names_for(method) & ROLE_NAMES if found else frozenset()
    if not roles:
        return _("Your role does not allow this page.")
    return _("Only the %(roles)s can do this.") % {"roles": role_names(roles)}


def _is_api_view(view_func) -> bool:
    from rest_framework.views import APIView

    cls = getattr(view_func, "cls", None)
    return isinstance(cls, type) and issubclass(cls, APIView)


class PermissionMatrixMiddleware:
    """Refuses a page or admin request the matrix does not allow before the view runs: anonymous users are
    sent to the sign-in page, the others get the 403 page (404 for research data they may not read).

    API views are left to config.api_permissions.MatrixPermission, which runs once DRF has authenticated
    the request (a token is not known here).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not settings.PERMISSION_MATRIX_ENFORCED or _is_api_view(view_func):
            return None
        match = request.resolver_match
        verdict = judge(request.user, match, request.method)
        if verdict is Verdict.ALLOWED:
            return None
        if verdict is Verdict.SIGN_IN:
            login = reverse("admin:login") if match.namespace == "admin" else None
            return redirect_to_login(request.get_full_path(), login)
        if verdict is Verdict.NOT_FOUND:
            raise Http404(_("Not found"))
        if verdict is Verdict.METHOD_NOT_ALLOWED:
            return HttpResponseNotAllowed(sorted(SAFE_METHODS))
        return error_page(request, Forbidden(refusal_message(match, request.method)))
