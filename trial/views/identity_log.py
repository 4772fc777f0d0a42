"""The log of reads of identifying data, for data managers: filtered by reader, participant and days, newest
first, a page at a time. Four queries whatever the log's size: the session, the user, their roles (shared with
the menu), the count and the page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..identity_reads import IdentityReadFilter, identity_read_list
from .common import paginate


@login_required
def identity_log(request: HttpRequest) -> HttpResponse:
    filters = IdentityReadFilter(request.GET, queryset=identity_read_list(user=request.user))
    page = paginate(request, filters.qs if filters.is_valid() else filters.queryset.none())
    return render(request, "trial/identity_log.html", {"form": filters.form, "page": page})
