"""The adjudicator's pages: the queue of their cases with counts, and the review page (the blind packet and
the e-signed verdict form). Nothing here names the participant, the site or its staff, nor the case's number
or opening date: a reader knows a case by their own reading code, in the URL too (selectors/packet.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from crf.services.signing_session import signing_session
from trial.pages import attempt, redraw_status
from trial.paging import CountedPaginator
from trial.views.common import PAGE_SIZE, page_query_errors

from ..forms import VerdictForm
from ..models import Confidence, ReaderSlot
from ..question import case_question
from ..selectors.packet import Bucket, case_packet, reader_bucket, reader_case, reader_counts
from ..services.verdicts import verdict_submit


def bucket_labels() -> dict[str, str]:
    return {
        Bucket.AWAITING_ME: _("Awaiting my verdict"),
        Bucket.AWAITING_OTHER: _("Awaiting the other reader"),
        Bucket.AWAITING_TIEBREAK: _("Awaiting the third reader"),
        Bucket.FINAL: _("Final"),
    }


@login_required
def adjudication_queue_page(request: HttpRequest) -> HttpResponse:
    """The reader's cases by where they stand, in the order of their reading codes; the counts of each tab.
    Three queries."""
    labels = bucket_labels()
    bucket = request.GET.get("bucket", "").strip() or Bucket.AWAITING_ME
    query_errors = page_query_errors(request)
    if bucket not in labels:
        # Not the first tab in its place: a link that names no tab lists nothing and says so.
        message = _("Not one of the tabs: %(tabs)s.") % {"tabs": ", ".join(labels)}
        query_errors.append({"name": "bucket", "label": _("Tab"), "messages": [message]})
        bucket = Bucket.AWAITING_ME
    counts = reader_counts(user=request.user)
    # The tab's size is one of the counts: the page is not counted again. A wrong query lists nothing.
    found = reader_bucket(user=request.user, bucket=bucket)
    paginator = CountedPaginator(
        found.none() if query_errors else found, PAGE_SIZE, count=0 if query_errors else counts[bucket]
    )
    page = paginator.get_page(1 if query_errors else request.GET.get("page"))
    slots = dict(ReaderSlot.choices)
    for case in page:
        case.slot_label = slots.get(case.my_slot, "")
        case.question = case_question(case)
    tabs = [
        {"code": code, "label": label, "count": counts[code], "current": code == bucket}
        for code, label in labels.items()
    ]
    context = {
        "tabs": tabs,
        "page": page,
        "bucket": bucket,
        "bucket_label": labels[bucket],
        "query_errors": query_errors,
    }
    return render(request, "followup/adjudication_queue.html", context, status=400 if query_errors else 200)


def _render_review(
    request: HttpRequest, case, form: VerdictForm | None, *, status: int = 200
) -> HttpResponse:
    """The page; a fresh form (None) starts with the event date the protocol's rule gives."""
    packet = case_packet(case=case, user=request.user)
    question = case_question(case)
    if form is None:
        form = VerdictForm(
            initial={"event_date": packet["event_date_suggested"]},
            question=question,
            ask_user_id=not signing_session(request).has_signed(request.user),
        )
    slots = dict(ReaderSlot.choices)
    for verdict in packet["verdicts"]:
        verdict["answer_label"] = question.answer_text(verdict["fracture"])
        verdict["slot_label"] = slots.get(verdict["slot"], verdict["slot"])
        verdict["mine"] = verdict["slot"] == packet["case"]["slot"]
        verdict["location_list"] = sorted(verdict["locations"].items())
        verdict["confidence_label"] = dict(Confidence.choices).get(
            verdict["confidence"], verdict["confidence"]
        )
    may_read = packet["case"]["bucket"] == Bucket.AWAITING_ME and not packet["case"]["mine_given"]
    context = {
        "case": case,
        "packet": packet,
        "question": question,
        "asks": set(question.asks),
        "form": form,
        "may_read": may_read,
        "slot_label": slots.get(packet["case"]["slot"], ""),
        "bucket_label": bucket_labels()[packet["case"]["bucket"]],
    }
    return render(request, "followup/adjudication_review.html", context, status=status)


@login_required
def adjudication_review_page(request: HttpRequest, reading_code: str) -> HttpResponse:
    """A case of the reader's, by their reading code: its blind packet and, while it awaits them, the verdict
    form."""
    case = get_object_or_404(reader_case(user=request.user, code=reading_code))
    if request.method != "POST":
        return _render_review(request, case, None)
    session = signing_session(request)
    form = VerdictForm(
        request.POST, question=case_question(case), ask_user_id=not session.has_signed(request.user)
    )
    done = None
    if form.is_valid():
        done = attempt(
            verdict_submit, form=form, actor=request.user, case=case, session=session, **form.cleaned_data
        )
        if done:
            messages.success(request, _("Your verdict is signed and recorded."))
            return redirect(reverse("adjudication-review", kwargs={"reading_code": case.reading_code}))
    return _render_review(request, case, form, status=redraw_status(done))


urlpatterns = [
    path("adjudication/", adjudication_queue_page, name="adjudication-queue-page"),
    path("adjudication/<str:reading_code>/", adjudication_review_page, name="adjudication-review"),
]
