"""Who must sign in with a second factor (trial.twofactor.two_factor_required): admins and every role but the
coordinator's always; a coordinator when the protocol of one of their studies says so; nobody when the setting
is off. And the protocol key itself: checked like every other (trial/protocol_schema.py)."""

import pytest
import yaml
from django.conf import settings as django_settings

from trial.access import user_roles
from trial.models import Role, StaffRole
from trial.services.protocols import ProtocolFileError, protocol_load, protocol_parse
from trial.twofactor import two_factor_required

pytestmark = pytest.mark.django_db

ALWAYS = [Role.PRINCIPAL_INVESTIGATOR, Role.INVESTIGATOR, Role.DATA_MANAGER, Role.MONITOR, Role.ADJUDICATOR]


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.TWO_FACTOR_REQUIRED = True


def shipped_text(code: str = "NCT06379243") -> str:
    return (django_settings.PROTOCOL_DIR / f"{code}.yaml").read_text(encoding="utf-8")


def amend(*, ask: bool, label: str, code: str = "NCT06379243") -> None:
    """Load an amendment of a shipped protocol whose `security:` asks coordinators for a second factor, or
    not."""
    text = shipped_text(code).replace('version: "1.0"', f'version: "{label}"', 1)
    text += f"\nsecurity:\n  coordinator_two_factor: {str(ask).lower()}\n"
    protocol_load(text=text, source_name=f"{code}-{label}.yaml")


@pytest.mark.parametrize("role", ALWAYS)
def test_every_role_but_the_coordinators_must(make_user, study, site, role):
    at_site = site if role == Role.INVESTIGATOR else None  # investigators are site staff, the rest study-wide
    user = make_user(f"user-{role}", role=role, study=study, site=at_site)
    assert two_factor_required(user)


def test_admins_must_even_without_a_role(make_user):
    assert two_factor_required(make_user("root", is_superuser=True, is_staff=True))
    assert two_factor_required(make_user("clerk", is_staff=True))


def test_a_coordinator_must_when_the_current_protocol_says_so(coordinator, study):
    # the shipped protocol leaves `security:` out: the default is no
    assert not two_factor_required(coordinator)
    amend(ask=True, label="2.0")
    assert two_factor_required(coordinator)
    # a later amendment that says no again: the current version decides
    amend(ask=False, label="3.0")
    assert not two_factor_required(coordinator)


def test_one_study_that_asks_is_enough(coordinator, study2, make_user):
    site2 = study2.sites.order_by("code").first()
    other = make_user("coord-b", role=Role.COORDINATOR, study=study2, site=site2)
    StaffRole.objects.create(user=coordinator, study=study2, site=site2, role=Role.COORDINATOR)
    amend(ask=True, label="2.0", code="NCT06172179")
    assert two_factor_required(coordinator)
    assert two_factor_required(other)


def test_only_active_roles_count(make_user, study, django_user_model):
    monitor = make_user("old-monitor", role=Role.MONITOR, study=study)
    assert two_factor_required(monitor)
    StaffRole.objects.filter(user=monitor).update(active=False)
    # the next request loads the user afresh (the roles are kept on the user object for one request)
    assert not two_factor_required(django_user_model.objects.get(pk=monitor.pk))


def test_a_user_without_a_role_and_an_anonymous_one_need_not(make_user):
    from django.contrib.auth.models import AnonymousUser

    assert not two_factor_required(make_user("nobody"))
    assert not two_factor_required(AnonymousUser())


def test_the_setting_off_turns_it_all_off(settings, make_user, study, coordinator):
    amend(ask=True, label="2.0")
    people = [
        make_user("root", is_superuser=True, is_staff=True),
        make_user("dm", role=Role.DATA_MANAGER, study=study),
        coordinator,
    ]
    assert all(two_factor_required(user) for user in people)
    settings.TWO_FACTOR_REQUIRED = False
    assert not any(two_factor_required(user) for user in people)


def test_the_rule_is_one_query(django_assert_num_queries, coordinator, make_user, study, site):
    make_user("coord07", role=Role.INVESTIGATOR, study=study, site=site)  # a second role of the same user
    with django_assert_num_queries(1):
        assert two_factor_required(coordinator)


def test_the_rule_shares_the_requests_read_of_the_roles(django_assert_num_queries, make_user, study, site):
    """The roles are those the permission matrix has already read for the request (trial.access.user_roles):
    no query of its own, but the protocol's flag for a coordinator with no other role that asks for one."""
    monitor = make_user("monitor-b", role=Role.MONITOR, study=study)
    coordinator = make_user("coord-b", role=Role.COORDINATOR, study=study, site=site)
    for user in (monitor, coordinator):
        user_roles(user)  # the matrix's read, earlier in the request
    with django_assert_num_queries(0):
        assert two_factor_required(monitor)
    with django_assert_num_queries(1):  # the current protocol's `security: coordinator_two_factor`
        assert not two_factor_required(coordinator)


# --- the protocol key ---------------------------------------------------------------------------------------


def parsed_with(security) -> dict:
    data = yaml.safe_load(shipped_text())
    data["security"] = security
    return protocol_parse(yaml.safe_dump(data, allow_unicode=True))


def test_the_protocol_key_is_read_as_written():
    assert parsed_with({"coordinator_two_factor": True})["security"] == {"coordinator_two_factor": True}
    assert "security" not in protocol_parse(shipped_text())  # left out: nothing filled in
    assert parsed_with({})["security"] == {}  # the default (false) applies


@pytest.mark.parametrize(
    ("security", "problem"),
    [
        (
            {"coordinator_two_factor": "yes"},
            "security.coordinator_two_factor: must be true or false (got 'yes')",
        ),
        ({"coordinator_two_factor": 1}, "security.coordinator_two_factor: must be true or false (got 1)"),
        ({"coordinator_2fa": True}, "security: unknown key(s) coordinator_2fa"),
        (None, "security"),
    ],
)
def test_a_wrong_protocol_key_is_refused_with_where_it_is(security, problem):
    with pytest.raises(ProtocolFileError) as info:
        parsed_with(security)
    assert any(line.startswith(problem) for line in str(info.value).split("; ")), str(info.value)
