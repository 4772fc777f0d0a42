"""Reads of the case board and the case page (views/board.py) for site staff, oversight and data managers.

What each role sees of a case is `case_views` / `case_view`'s rule (selectors/adjudication.py), the API's own;
this module adds what the pages need around it: the view the user has at each site, the board's tabs with
their counts, and the case page's evidence, assignments and verdicts. Site staff never see the reviews in
progress, so a board that shows any case in the site view has one "in review" tab (open and disputed
together): a count of disputed cases would tell them what a row may not.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from crf.engine.definitions import form_definition
from trial.access import visible_sites
from trial.i18n import localized

from ..models import AdjudicationCase, CaseAssignment, CaseEvidence, CaseStatus, ReaderSlot, Verdict, Visit
from .adjudication import CaseView, adjudication_case_list, case_view, case_views, site_view
from .packet import board_counts

IN_REVIEW = "in_review"
IN_REVIEW_STATUSES = (CaseStatus.OPEN, CaseStatus.DISPUTED)
SITE_TABS = (IN_REVIEW, CaseStatus.FINAL, CaseStatus.CANCELLED)
BOARD_TABS = (CaseStatus.OPEN, CaseStatus.DISPUTED, CaseStatus.FINAL, CaseStatus.CANCELLED)


@dataclass(frozen=True)
class Board:
    """Who looks at the board: their views (case_views), the sites they read with the view they have at
    each, and the best of those views (which columns the board has)."""

    views: tuple[dict, dict]
    sites: list
    site_views: dict[int, str]
    superuser: bool

    @property
    def best(self) -> str | None:
        return max(self.site_views.values(), key=CaseView.RANK.__getitem__, default=None)

    @property
    def site_mode(self) -> bool:
        """Some case on the board is seen by site staff only: the tabs fold open and disputed together."""
        return CaseView.SITE in self.site_views.values()

    @property
    def manages(self) -> bool:
        return CaseView.MANAGE in self.views[0].values()

    @property
    def tabs(self) -> tuple[str, ...]:
        return SITE_TABS if self.site_mode else BOARD_TABS

    def row_view(self, case: AdjudicationCase) -> str:
        return case_view(self.views, case, superuser=self.superuser)


def board_for(*, user) -> Board:
    """The user's board: their views and the sites they read (adjudicators' roles open none). Two queries."""
    views = case_views(user=user)
    sites = list(visible_sites(user).order_by("study__code", "code"))
    superuser = user.is_superuser
    return Board(
        views=views,
        sites=sites,
        site_views={site.pk: site_view(views, site, superuser=superuser) for site in sites},
        superuser=superuser,
    )


def board_cases(*, user, site: str = "", study_id: str = "") -> QuerySet:
    """The board's cases, newest first, filtered by site code and study ID (not by status: the tabs count
    over this), with the board's counts annotated. One query a page."""
    cases = adjudication_case_list(user=user)
    if site:
        cases = cases.filter(participant__site__code=site)
    if study_id:
        cases = cases.filter(participant__study_id=study_id)
    return cases


def board_rows(board: Board, cases: QuerySet) -> QuerySet:
    """The cases with, when the user manages some, their active readers prefetched (`active_readers`, in slot
    order; one query more)."""
    if board.best != CaseView.MANAGE:
        return cases
    active = CaseAssignment.objects.filter(active=True).select_related("reader").order_by("slot", "id")
    return cases.prefetch_related(Prefetch("assignments", queryset=active, to_attr="active_readers"))


def board_tab_counts(board: Board, cases: QuerySet) -> dict[str, int]:
    """{tab: number of cases} for the board's tabs, "all" included; open and disputed folded into "in
    review" when site staff look (see the module). One query."""
    counts = board_counts(cases)
    if board.site_mode:
        counts[IN_REVIEW] = sum(counts.pop(status) for status in IN_REVIEW_STATUSES)
    return {"all": sum(counts.values())} | {tab: counts[tab] for tab in board.tabs}


def board_status_filter(status: str) -> dict:
    """The lookup of a tab (a status, or "in review")."""
    if status == IN_REVIEW:
        return {"status__in": IN_REVIEW_STATUSES}
    return {"status": status}


def board_case(*, user, pk: int, manage: bool) -> AdjudicationCase | None:
    """One case of the board, or None when the user does not read it (adjudicators' roles open no case here).
    One query; with `manage` (the user is a data manager somewhere) three more: its assignments (and readers),
    evidence (with the form record and who entered it) and verdicts prefetched."""
    # The case's own site too: the services and reader_choices judge the user's role there.
    cases = adjudication_case_list(user=user).select_related("site")
    if manage:
        cases = cases.prefetch_related(
            Prefetch(
                "assignments",
                queryset=CaseAssignment.objects.select_related("reader").order_by("assigned_at", "id"),
            ),
            Prefetch(
                "evidence",
                queryset=CaseEvidence.objects.select_related("record", "entered_by").order_by(
                    "exam_date", "id"
                ),
            ),
            Prefetch(
                "verdicts",
                queryset=Verdict.objects.select_related("assignment").order_by("round", "signed_at"),
            ),
        )
    return cases.filter(pk=pk).first()


def case_evidence_rows(case: AdjudicationCase) -> list[dict]:
    """The case's evidence (prefetched by `board_case`), each with the form's title and the visit's label in
    the page's language. One query (the visits' labels), none when no form record supports the case."""
    evidence = list(case.evidence.all())
    codes = {e.record.visit_code for e in evidence if e.record_id and e.record.visit_code}
    labels = (
        dict(
            Visit.objects.filter(participant_id=case.participant_id, code__in=codes).values_list(
                "code", "label"
            )
        )
        if codes
        else {}
    )
    rows = []
    for item in evidence:
        record = item.record if item.record_id else None
        form = form_definition(record.form_code) if record else None
        rows.append(
            {
                "evidence": item,
                "record": record,
                "form_title": (localized(form.title) if form else record.form_code) if record else "",
                "visit_code": record.visit_code if record else "",
                "visit_label": localized(labels.get(record.visit_code))
                if record and record.visit_code
                else "",
            }
        )
    return rows


def case_assignment_rows(case: AdjudicationCase) -> list[dict]:
    """The case's assignments (prefetched by `board_case`), each with the rounds its reader gave a verdict in
    and whether they have read the current round."""
    rounds: dict[int, list[int]] = {}
    for verdict in case.verdicts.all():
        rounds.setdefault(verdict.assignment_id, []).append(verdict.round)
    return [
        {
            "assignment": a,
            "rounds": rounds.get(a.pk, []),
            "read_now": case.round in rounds.get(a.pk, []),
        }
        for a in case.assignments.all()
    ]


def reassignable_slots(case: AdjudicationCase) -> list[str]:
    """The slots a data manager may give to another reader now (prefetched data, no query): the first and
    second while the case is open, the third while it is disputed, each until its reader has given this
    round's verdict (services/assignment.py judges again under the lock)."""
    if case.status == CaseStatus.OPEN:
        slots = (ReaderSlot.FIRST, ReaderSlot.SECOND)
    elif case.status == CaseStatus.DISPUTED:
        slots = (ReaderSlot.THIRD,)
    else:
        return []
    read = {v.assignment.slot for v in case.verdicts.all() if v.round == case.round}
    return [slot for slot in slots if slot not in read]


def case_lacks_readers(case: AdjudicationCase) -> bool:
    """An open case with an empty first or second slot (prefetched data, no query)."""
    if case.status != CaseStatus.OPEN:
        return False
    filled = {a.slot for a in case.assignments.all() if a.active}
    return not {ReaderSlot.FIRST, ReaderSlot.SECOND} <= filled
