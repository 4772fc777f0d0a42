"""Identifying data stays out of error reports and string forms."""

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.views.debug import get_default_exception_reporter_filter

from trial.models import ParticipantIdentity, StaffRole

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = pytest.mark.frozen


def test_error_reports_cleanse_identity_fields():
    request = RequestFactory().post(
        "/screenings/1/",
        {"full_name": "Synthetic Person", "phone": "13800000000", "consent_date": "2026-01-06"},
    )
    params = get_default_exception_reporter_filter().get_post_parameters(request)
    assert params["full_name"] == params["phone"] == "********************"
    assert params["consent_date"] == "2026-01-06"


def test_identity_str_and_repr_never_show_the_name(make_participant):
    identity = ParticipantIdentity.objects.get(participant=make_participant())
    assert "Synthetic" not in str(identity) and "Synthetic" not in repr(identity)


def test_admin_shows_no_audit_event_tables(admin_client):
    """Event tables hold old values, identity included; the admin must not list them."""
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert b"pghistory" not in response.content
    assert b"Participant identit" not in response.content


def test_admin_keeps_site_codes_fixed(admin_client, site):
    page = admin_client.get(f"/admin/trial/site/{site.pk}/change/").content.decode()
    assert page.count('name="time_zone"') == 1  # still editable
    assert 'name="code"' not in page  # read-only once saved: it prefixes study IDs


def test_a_role_at_another_studys_site_does_not_validate(admin_user, site, study2):
    role = StaffRole(user=admin_user, study=study2, site=site, role="coordinator")
    with pytest.raises(ValidationError) as info:
        role.full_clean()
    assert "site" in info.value.message_dict
