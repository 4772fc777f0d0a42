"""The log of reads of identifying data, for data managers: filtered by reader, participant and days, newest
first, a page at a time. Four queries whatever the log's size: the session, the user, their roles (shared with
the menu), the count and the page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..identity_reads import IdentityReadFilter, identity_read_list
from .common import list_page


@login_required
def identity_log(request: HttpRequest) -> HttpResponse:
    filters = IdentityReadFilter(request.GET, queryset=identity_read_list(user=request.user))
    listing = list_page(request, filters.qs, form=filters.form)
    context = {"form": filters.form, "page": listing.page, "query_errors": listing.errors}
    return render(request, "trial/identity_log.html", context, status=listing.status)
