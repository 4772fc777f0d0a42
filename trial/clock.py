"""Dates where a site is: clinical dates are judged, and windows turn, at the site's midnight, not UTC's."""

import datetime
import zoneinfo

from django.utils import timezone


def site_today(site) -> datetime.date:
    """Today's date at the site (anything with a `time_zone`, e.g. trial.models.Site)."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(site.time_zone))
