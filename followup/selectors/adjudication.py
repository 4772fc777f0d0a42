"""Reads of re-fracture adjudication cases for everyone but their readers (selectors/packet.py is theirs).

What a case shows depends on the user's role where the case is (`case_views`):
- **site staff** (coordinators and investigators of the participant's site) see that the case exists, in
  review or not, and its final result: never the reviews in progress (who reads it, how far, a dispute);
- **oversight** (the principal investigator, monitors) see the board: each case's state, round, readers
  assigned and verdicts in, never the readers' identities;
- **data managers** see everything, readers and verdicts included: they assign, reassign, reopen and open
  cases by hand.
Adjudicators' roles open no case here (they read their packets, blind, in the queue).
"""

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from trial.access import require_role_at, user_roles, visible_sites
from trial.models import Role
from trial.models.site import SITE_STAFF_ROLES

from ..models import AdjudicationCase, CaseAssignment, CaseEvidence, Verdict
from ..question import CASE_SECTION
from ..services.assignment import eligible_readers
from .packet import reader_counts


class CaseView:
    SITE = "site"
    OVERSIGHT = "oversight"
    MANAGE = "manage"
    RANK = {SITE: 0, OVERSIGHT: 1, MANAGE: 2}


def case_views(*, user) -> tuple[dict[int, str], dict[int, str]]:
    """({study id: view} of the user's study-wide roles, {site id: view} of their site roles), from the roles
    the request has read (trial.access.user_roles)."""
    by_study, by_site = {}, {}

    def better(found: dict, key: int, view: str) -> None:
        if CaseView.RANK[view] > CaseView.RANK.get(found.get(key), -1):
            found[key] = view

    for role, study_id, site_id in user_roles(user):
        if role == Role.ADJUDICATOR:
            continue
        if site_id is not None and role in SITE_STAFF_ROLES:
            better(by_site, site_id, CaseView.SITE)
        elif site_id is None and role == Role.DATA_MANAGER:
            better(by_study, study_id, CaseView.MANAGE)
        elif site_id is None and role not in SITE_STAFF_ROLES:
            better(by_study, study_id, CaseView.OVERSIGHT)
    return by_study, by_site


def site_view(views: tuple[dict, dict], site, *, superuser: bool = False) -> str:
    """The view the user has of the cases at a site (its study's roles and the site's own; the better of the
    two; a superuser's is oversight)."""
    by_study, by_site = views
    found = [v for v in (by_study.get(site.study_id), by_site.get(site.pk)) if v]
    if superuser:
        found.append(CaseView.OVERSIGHT)
    return max(found, key=CaseView.RANK.__getitem__, default=CaseView.SITE)


def case_view(views: tuple[dict, dict], case: AdjudicationCase, *, superuser: bool = False) -> str:
    """The view the user has of this case: that of its participant's site."""
    return site_view(views, case.participant.site, superuser=superuser)


def adjudication_case_list(*, user, manage: bool = False) -> QuerySet:
    """Cases on the user's sites, newest first, with participant, site and visit joined, the counts of the
    board (readers assigned, verdicts in this round) and their study's `adjudication_section`. `manage`:
    with the assignments (and readers), evidence and verdicts prefetched, for a data manager's page (three
    queries more). One query a page otherwise."""
    assigned = (
        CaseAssignment.objects.filter(case=OuterRef("pk"), active=True)
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    verdicts = (
        Verdict.objects.filter(case=OuterRef("pk"), round=OuterRef("round"))
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    cases = (
        # The case's own site column (no join); adjudicators' roles open nothing here.
        AdjudicationCase.objects.filter(site__in=visible_sites(user))
        .select_related("participant__site", "visit")
        .annotate(
            readers_assigned=Coalesce(Subquery(assigned), 0),
            verdicts_in=Coalesce(Subquery(verdicts), 0),
            adjudication_section=CASE_SECTION,  # the question asked (followup/question.py), in the same query
        )
        .order_by("-created_at", "-id")
    )
    if manage:
        cases = cases.prefetch_related(
            Prefetch(
                "assignments",
                queryset=CaseAssignment.objects.select_related("reader").order_by("assigned_at", "id"),
            ),
            Prefetch(
                "evidence", queryset=CaseEvidence.objects.select_related("record").order_by("exam_date", "id")
            ),
            Prefetch(
                "verdicts",
                queryset=Verdict.objects.select_related("assignment").order_by("round", "signed_at"),
            ),
        )
    return cases


def adjudication_panel(*, user) -> dict | None:
    """The dashboard's panel for an adjudicator: their queue's counts (one query more); None for anyone else,
    whose dashboard already shows the study (and the cases on the timelines).

    Without it an adjudicator, to whom every study figure is hidden (blinding), would see an empty dashboard.
    """
    if not any(role == Role.ADJUDICATOR for role, _study, _site in user_roles(user)):
        return None
    return {"template": "followup/_adjudication_panel.html", "counts": reader_counts(user=user)}


def reader_choices(*, actor, case: AdjudicationCase) -> list[dict]:
    """The adjudicators a data manager may give a slot of this case to, least loaded first: eligible (no
    role at the participant's site) and not already reading it. 403 for anyone but a data manager. Two
    queries."""
    require_role_at(actor, case.site, {Role.DATA_MANAGER}, gettext_lazy("assign adjudication readers"))
    on_case = CaseAssignment.objects.filter(case=case, active=True).values("reader_id")
    return [
        {"id": user.pk, "name": user.get_full_name() or user.get_username(), "load": user.load}
        for user in eligible_readers(case).exclude(pk__in=on_case)
    ]
