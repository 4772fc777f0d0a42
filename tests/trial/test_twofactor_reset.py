"""Resetting a user's second factor (a lost phone): by a data manager of one of their studies or an
administrator, with a reason, recorded in the audit trail; the user enrols again at the next sign-in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from trial.models import Role, TwoFactorChange, TwoFactorEvent

from .test_twofactor import enrol, next_code

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.TWO_FACTOR_REQUIRED = True


@pytest.fixture
def clock(frozen_marker_clock):
    return frozen_marker_clock


@pytest.fixture
def manager(make_user, study):
    return make_user("dm", role=Role.DATA_MANAGER, study=study)


@pytest.fixture
def investigator(make_user, study, site):
    return make_user("inv07", role=Role.INVESTIGATOR, study=study, site=site)


def signed_in(client, user, clock):
    """A client of `user`, enrolled and verified."""
    device, _codes = enrol(user, clock)
    client.force_login(user)
    assert client.post("/two-factor/verify/", {"code": next_code(device, clock)}).status_code == 302
    return client


def test_a_data_manager_resets_a_lost_phone_with_a_reason(client, manager, investigator, clock):
    from knox.models import AuthToken

    enrol(investigator, clock)
    AuthToken.objects.create(user=investigator)  # issued while the phone was theirs
    signed_in(client, manager, clock)
    listing = client.get("/two-factor/reset/").content.decode()
    assert 'data-user="inv07"' in listing and 'data-user="dm"' not in listing  # not one's own

    refused = client.post(f"/two-factor/reset/{investigator.pk}/", {"reason": " "})
    assert refused.status_code == 400 and TOTPDevice.objects.filter(user=investigator).exists()

    done = client.post(f"/two-factor/reset/{investigator.pk}/", {"reason": "Phone lost on 2026-09-30"})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=investigator).exists()
    assert not StaticDevice.objects.filter(user=investigator).exists()
    assert not AuthToken.objects.filter(user=investigator).exists()
    event = TwoFactorEvent.objects.get(user=investigator, change=TwoFactorChange.RESET)
    assert (event.actor, event.reason) == (manager, "Phone lost on 2026-09-30")
    # in the audit trail (pghistory) with who and why, like every other change
    audit = event.pgh_event_models["insert"].objects.get(pgh_obj=event)
    assert audit.pgh_context.metadata["user"] == manager.pk
    assert audit.pgh_context.metadata["reason"] == "Phone lost on 2026-09-30"

    # and the investigator enrols again at the next sign-in
    client.force_login(investigator)
    assert client.get("/participants/")["Location"].startswith("/two-factor/setup/")


def test_the_record_cannot_be_changed_nor_deleted(manager, investigator, clock):
    from django.db import ProgrammingError, transaction

    enrol(investigator, clock)
    event = TwoFactorEvent.objects.get()
    for change in (
        lambda: TwoFactorEvent.objects.update(reason="x"),
        lambda: TwoFactorEvent.objects.all().delete(),
    ):
        with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
            change()
    assert TwoFactorEvent.objects.get().reason == event.reason


def test_who_may_reset_whom(client, manager, investigator, coordinator, make_user, study2, clock):
    root = make_user("root", is_superuser=True, is_staff=True)
    elsewhere = make_user("dm2", role=Role.DATA_MANAGER, study=study2)
    signed_in(client, manager, clock)
    # a data manager: not an administrator, not someone of another study
    for other in (root, elsewhere):
        assert client.post(f"/two-factor/reset/{other.pk}/", {"reason": "x"}).status_code == 404
    assert client.post(f"/two-factor/reset/{coordinator.pk}/", {"reason": "x"}).status_code == 302

    # a coordinator resets no one (and is not held: their protocol does not ask them)
    client.force_login(coordinator)
    assert client.get("/two-factor/reset/").status_code == 403
    # refused by the permission matrix before the view looks the user up: the same 403 whether the user exists
    # or not, naming the roles that may, and nothing of the user asked for
    for pk in (investigator.pk, 10**9):
        refused = client.post(f"/two-factor/reset/{pk}/", {"reason": "x"})
        assert refused.status_code == 403
        assert "Only the data manager can do this." in refused.content.decode()
        assert investigator.username not in refused.content.decode()

    # an administrator resets anyone, the data manager included
    signed_in(client, root, clock)
    assert client.post(f"/two-factor/reset/{manager.pk}/", {"reason": "new phone"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()


def test_the_reset_list_runs_a_fixed_number_of_queries(client, manager, make_user, study, site, clock):
    signed_in(client, manager, clock)

    def queries() -> int:
        clock.shift(61)  # each request then renews the idle session's mark (trial.signin), the same work
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/two-factor/reset/").status_code == 200
        return len(ctx.captured_queries)

    make_user("inv1", role=Role.INVESTIGATOR, study=study, site=site)
    few = queries()
    for n in range(2, 8):
        user = make_user(f"inv{n}", role=Role.INVESTIGATOR, study=study, site=site)
        if n % 2:
            enrol(user, clock)
    assert queries() == few


def test_the_admin_offers_no_back_door_to_the_devices():
    from django.contrib import admin

    # django-otp's device pages would add a device with a key the adder knows, or delete one, unrecorded
    assert not {TOTPDevice, StaticDevice} & set(admin.site._registry)
