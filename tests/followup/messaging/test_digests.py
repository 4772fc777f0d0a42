"""Staff digests: planned once a day (coordinators, investigators) or once a week (principal investigators),
in the reader's language, with figures counted when sent, and never to someone who switched them off."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup.messaging.digests import digests_plan
from followup.messaging.dispatch import outbox_dispatch
from followup.messaging.models import OutboxMessage, StaffMessageSetting
from followup.models import Visit
from trial.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text: str):
    return time_machine.travel(datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def staff(coordinator, make_user, study):
    coordinator.email = "coordinator@example.invalid"
    coordinator.save(update_fields=["email"])
    pi = make_user("pi", role=Role.PRINCIPAL_INVESTIGATOR, study=study)
    pi.email = "pi@example.invalid"
    pi.save(update_fields=["email"])
    StaffMessageSetting.objects.create(user=pi, language="en")
    return {"coordinator": coordinator, "pi": pi}


def test_daily_digests_once_a_day_and_weekly_once_a_week(staff):
    with at("2027-01-04 06:00"):  # a Monday, before 08:00 at the site
        assert digests_plan() == (2, 0)
        assert digests_plan() == (0, 2)
    keys = dict(OutboxMessage.objects.values_list("kind", "key"))
    assert keys == {
        "digest_daily": f"digest_daily:u{staff['coordinator'].pk}:2027-01-04",
        "digest_weekly": f"digest_weekly:u{staff['pi'].pk}:2027-W01",
    }
    assert set(OutboxMessage.objects.values_list("due_at", flat=True)) == {
        datetime.datetime(2027, 1, 4, 8, 0, tzinfo=SHANGHAI)
    }
    with at("2027-01-06 09:00"):  # Wednesday: a new daily digest, the week's is planned already
        assert digests_plan() == (1, 1)


def test_a_digest_is_sent_in_the_readers_language_with_todays_figures(staff, make_participant, smtp_server):
    participant = make_participant()
    Visit.objects.create(
        participant=participant,
        code="M12",
        label={"en": "12 months"},
        sequence=5,
        target_date=datetime.date(2027, 1, 8),
        window_open=datetime.date(2027, 1, 6),
        window_close=datetime.date(2027, 1, 10),
        questionnaires=["vas"],
    )
    with at("2027-01-04 06:00"):
        digests_plan()
    with at("2027-01-04 07:59"):
        assert outbox_dispatch().outcomes == {}
    with at("2027-01-04 08:00"):
        assert outbox_dispatch().outcomes == {"sent": 2}
    mails = {mail.rcpt_tos[0]: mail for mail in smtp_server.wait_for(2)}
    daily = mails["coordinator@example.invalid"].body
    assert "07" in daily and "1 个访视将在未来7天内开放" in daily  # the coordinator reads Chinese (default)
    assert participant.study_id not in daily and "Synthetic Person" not in daily  # no patient named
    assert "/account/digests/" in daily  # where to switch it off or change its language
    weekly = mails["pi@example.invalid"]
    assert weekly.message["Subject"] == "SpineTrial: the week, 2027-W01"
    assert "1 enrolled toward the study's target of 560" in weekly.body


def test_a_digest_switched_off_is_neither_planned_nor_sent(staff, smtp_server):
    with at("2027-01-04 06:00"):
        digests_plan()
    StaffMessageSetting.objects.update_or_create(user=staff["coordinator"], defaults={"daily_digest": False})
    with at("2027-01-04 08:00"):
        assert outbox_dispatch().outcomes == {"cancelled": 1, "sent": 1}
    assert OutboxMessage.objects.get(kind="digest_daily").note_code == "switched_off"
    with at("2027-01-05 06:00"):
        assert digests_plan() == (0, 1)  # only the PI's week, planned already


def test_planning_runs_the_same_queries_for_two_readers_or_ten(staff, make_user, site):
    """Each reader's switches and language are read with the others', not one query a reader."""

    def queries() -> int:
        OutboxMessage.objects.all().delete()
        with at("2027-01-04 06:00"), CaptureQueriesContext(connection) as captured:
            digests_plan()
        return len(captured)

    two = queries()
    for number in range(8):
        reader = make_user(
            f"inv{number}", role=Role.INVESTIGATOR, site=site, email=f"inv{number}@example.invalid"
        )
        StaffMessageSetting.objects.create(user=reader, language="en" if number % 2 else "zh-hans")
    assert queries() == two
    languages = dict(OutboxMessage.objects.values_list("recipient__username", "language"))
    assert (languages["inv1"], languages["inv2"], languages["coord07"], languages["pi"]) == (
        "en", "zh-hans", "zh-hans", "en",
    )  # fmt: skip
