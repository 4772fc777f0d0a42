"""Staff pages of the outbox: the messages to patients at the user's sites with filters, and each staff
member's own digests (which kinds, in which language)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trial.i18n import localized
from trial.pages import attempt
from trial.views.common import list_page

from ..forms import DigestSettingsForm, MessageFilterForm
from ..instruments import INSTRUMENTS
from ..messaging import services as message_services
from ..messaging.digests import digest_readers
from ..messaging.models import MessageKind, OutboxMessage
from ..messaging.selectors import digest_setting, message_list
from ..selectors.visits import visit_sites


def step_label(step: str) -> str:
    """A reminder's step (followup.messaging.rules.reminder_days: open+N, close-N, last_day) in the page's
    language; an unknown one as it is."""
    kind, _sep, days = step.partition("+") if "+" in step else step.partition("-")
    if step == "last_day":
        return _("last day of the window")
    if not days.isdigit():
        return step
    count = int(days)
    if kind == "open":
        if count == 0:
            return _("the window opens")
        return ngettext(
            "%(count)d day after the window opens", "%(count)d days after the window opens", count
        ) % {"count": count}
    if kind == "close":
        return ngettext(
            "%(count)d day before the window closes", "%(count)d days before the window closes", count
        ) % {"count": count}
    return step


def labelled(outbox) -> list:
    """The messages, each with its visit, questionnaire and step named in the page's language."""
    rows = list(outbox)
    for message in rows:
        message.visit_label = localized(message.visit.label) if message.visit else ""
        instrument = INSTRUMENTS.get(message.instrument)
        message.instrument_label = localized(instrument.name) if instrument else message.instrument
        message.step_label = step_label(message.step) if message.step else ""
    return rows


@login_required
def outbox_page(request: HttpRequest) -> HttpResponse:
    """The messages to patients at the user's sites, newest first, filtered by state, channel, site and
    study ID; a bad filter is a 400 naming the field, with nothing listed. Four queries whatever the page."""
    sites = visit_sites(user=request.user)
    form = MessageFilterForm(request.GET or None, sites=sites)
    if form.is_bound and not form.is_valid():
        outbox = OutboxMessage.objects.none()
    else:
        filters = {
            name: value for name, value in (form.cleaned_data if form.is_bound else {}).items() if value
        }
        outbox = message_list(user=request.user, kind=MessageKind.REMINDER, **filters)
    listing = list_page(request, outbox, form=form)
    context = {
        "form": form,
        "page": listing.page,
        "rows": labelled(listing.page.object_list),
        "show_site": len(sites) > 1,
        "query_errors": listing.errors,
    }
    return render(request, "followup/outbox.html", context, status=listing.status)


@login_required
def digest_settings_page(request: HttpRequest) -> HttpResponse:
    """The user's own digests: each kind on or off, and the language they are written in (PRG)."""
    setting = digest_setting(request.user)
    initial = {"language": setting.language, "daily": setting.daily_digest, "weekly": setting.weekly_digest}
    form = DigestSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        saved = form.is_valid() and attempt(
            message_services.digest_settings_update, form=form, actor=request.user, **form.cleaned_data
        )
        if saved:
            messages.success(request, _("Your digest settings are saved."))
            return redirect("digest-settings")
    receives = {reader.kind for reader in digest_readers(user_ids=[request.user.pk])}
    context = {
        "form": form,
        "receives_daily": MessageKind.DIGEST_DAILY in receives,
        "receives_weekly": MessageKind.DIGEST_WEEKLY in receives,
        "has_email": bool(request.user.email),
    }
    return render(request, "followup/digest_settings.html", context, status=400 if form.errors else 200)


urlpatterns = [
    path("messages/", outbox_page, name="outbox"),
    path("account/digests/", digest_settings_page, name="digest-settings"),
]
