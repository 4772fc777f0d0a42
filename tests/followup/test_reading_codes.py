"""Reading codes (followup/reading_codes.py): a blinded reader knows each case by a random code of their own,
in the order of their codes, never by the case's number or the date it was opened (both follow the order of
registration, which in a retrospective study is the reference group's: STARD 2015 item 13a). The data
manager's board keeps the numbers, and shows each reader's code beside them."""

import datetime
import json
import random
import re

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from followup import reading_codes
from followup.models import AdjudicationCase, CaseAssignment
from followup.reading_codes import ALPHABET, PATTERN, new_reading_codes, reading_code_parsed
from followup.services.assignment import assignment_create, case_reader_reassign

from ..conftest import client_for
from .reading_helpers import reading_code
from .test_adjudication_api import case as case  # the fixture: L3 read by adj_a and adj_b
from .test_adjudication_api import people as people

pytestmark = [pytest.mark.django_db, pytest.mark.frozen]

API = "/api/v1/adjudication/queue/"
PAGE = "/adjudication/"
NUMBER = 987654  # a case number that no page shows otherwise
OPENED = datetime.datetime(2025, 11, 17, 9, 30, tzinfo=datetime.UTC)  # its opening: no date of the packet
OPENED_TEXTS = ("2025-11-17", "Nov. 17, 2025", "2025年11月17日", "17/11/2025")
# Levels free at the fixture's participant (its cases are L3, T10 and T8).
FREE_LEVELS = ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T9", "T11", "T12", "L4", "L5")


def web(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def opened_case(case, level: str, *, pk: int | None = None, opened=None) -> AdjudicationCase:
    """Another open case of the fixture's participant (its number `pk` when given, opened at `opened`)."""
    extra = AdjudicationCase.objects.create(
        pk=pk, participant=case.participant, level=level, location="remote", exam_date=case.exam_date
    )
    if opened is not None:
        AdjudicationCase.objects.filter(pk=extra.pk).update(created_at=opened, updated_at=opened)
    return extra


def seeded(monkeypatch, seed: int) -> None:
    """The codes drawn from a fixed-seed generator instead of the system's: the same codes on every run."""
    monkeypatch.setattr(reading_codes, "secrets", random.Random(seed))


def test_two_readers_know_a_case_by_two_codes_and_never_by_its_number_or_opening_date(case, people):
    numbered = opened_case(case, "T6", pk=NUMBER, opened=OPENED)
    for name, slot in (("adj_a", "first"), ("adj_b", "second")):
        assignment_create(case=numbered, reader=people[name], slot=slot)
    codes = {name: reading_code(numbered, people[name]) for name in ("adj_a", "adj_b")}
    assert codes["adj_a"] != codes["adj_b"] and all(PATTERN.match(code) for code in codes.values())
    for name, code in codes.items():
        api = client_for(people[name])
        listed = api.get(API).json()["results"]
        row = next(row for row in listed if row["level"] == "T6")
        assert row["code"] == code and set(row) == {"code", "level", "round", "slot", "bucket", "question"}
        packet = api.get(f"{API}{code}/").json()
        assert packet["case"]["code"] == code and "id" not in packet["case"]
        queue_page = web(people[name]).get(PAGE).content.decode()
        review_page = web(people[name]).get(f"{PAGE}{code}/").content.decode()
        chinese = web(people[name], "zh-hans").get(f"{PAGE}{code}/").content.decode()
        assert f">Case {code}</a>" in queue_page and f"<h1>Case {code}: level T6</h1>" in review_page
        assert f"病例 {code}" in chinese  # with po27/b2.json merged
        for text in (json.dumps(listed), json.dumps(packet), queue_page, review_page, chinese):
            assert str(NUMBER) not in text, name
            assert not [date for date in OPENED_TEXTS if date in text], name
        other = codes["adj_b" if name == "adj_a" else "adj_a"]
        assert other not in queue_page and other not in review_page  # each reader sees only their own code
        # Neither the other reader's code nor the case's number opens the case.
        assert api.get(f"{API}{other}/").status_code == 404
        assert api.get(f"{API}{NUMBER}/").status_code == 404
        assert web(people[name]).get(f"{PAGE}{other}/").status_code == 404


def test_a_readers_queue_is_in_the_order_of_their_codes_not_the_order_cases_were_opened(
    case, people, monkeypatch
):
    seeded(monkeypatch, 27)
    opened = [
        opened_case(case, level, opened=OPENED + datetime.timedelta(days=day))
        for day, level in enumerate(FREE_LEVELS)
    ]
    for extra in opened:  # registered in a block: numbers and dates rise together
        assignment_create(case=extra, reader=people["adj_a"], slot="first")
        assignment_create(case=extra, reader=people["adj_b"], slot="second")
    orders = {}
    for name in ("adj_a", "adj_b"):
        case_of = dict(
            CaseAssignment.objects.filter(reader=people[name], active=True).values_list(
                "reading_code", "case"
            )
        )
        listed = [row["code"] for row in client_for(people[name]).get(API).json()["results"]]
        page = web(people[name]).get(PAGE).content.decode()
        assert re.findall(r'<tr id="reading-([A-Z0-9]+)"', page) == listed == sorted(case_of)
        orders[name] = [case_of[code] for code in listed]
        assert sorted(orders[name]) == sorted([case.pk, *(c.pk for c in opened)])
        assert orders[name] != sorted(orders[name]), f"{name}: the queue is in the order cases were opened"
    assert orders["adj_a"] != orders["adj_b"]  # each reader's own order


def test_a_code_already_in_use_is_drawn_again_and_other_refusals_are_raised(case, people, monkeypatch):
    seeded(monkeypatch, 5)
    first_draw = reading_codes.new_reading_code()
    seeded(monkeypatch, 5)  # the next assignment draws that code first
    CaseAssignment.objects.filter(case=case, reader=people["adj_a"]).update(reading_code=first_draw)
    added = assignment_create(case=case, reader=people["adj_c"], slot="third")
    assert added.reading_code != first_draw and PATTERN.match(added.reading_code)
    assert CaseAssignment.objects.filter(case=case, active=True).count() == 3  # the transaction goes on
    with pytest.raises(IntegrityError), transaction.atomic():
        assignment_create(case=case, reader=people["adj_c"], slot="first")  # a slot taken: not retried


def test_a_reassigned_reader_keeps_no_way_in_and_the_new_reader_gets_a_new_code(case, people):
    before = reading_code(case, people["adj_b"])
    moved = case_reader_reassign(
        actor=people["dm"], case=case, slot="second", reader=people["adj_c"], reason="on leave"
    )
    assert moved.reading_code not in (before, reading_code(case, people["adj_a"]))
    assert client_for(people["adj_b"]).get(f"{API}{before}/").status_code == 404
    assert client_for(people["adj_c"]).get(f"{API}{moved.reading_code}/").status_code == 200


def test_the_board_keeps_the_case_number_for_a_data_manager_with_each_readers_code(case, people):
    dm = web(people["dm"])
    board = dm.get("/adjudication/cases/").content.decode()
    assert f"#{case.pk}</span>" in board
    page = dm.get(f"/adjudication/cases/{case.pk}/").content.decode()
    assert f"<h1>Case {case.pk} " in page
    for name in ("adj_a", "adj_b"):
        assert f'data-role="reading-code">{reading_code(case, people[name])}<' in page
    assert web(people["adj_a"]).get(f"/adjudication/cases/{case.pk}/").status_code == 404  # not a reader's


def test_codes_are_read_as_typed_and_drawn_without_look_alikes():
    assert not set("0O1IL") & set(ALPHABET)
    assert reading_code_parsed(" k7m2p9q ") == "K7M2P9Q"
    for wrong in ("K7M2P9O", "K7M2P9", "K7M2P9QQ", "", "123"):
        assert reading_code_parsed(wrong) is None, wrong
    codes = new_reading_codes(500, taken={"K7M2P9Q"})
    assert len(set(codes)) == 500 and "K7M2P9Q" not in codes and all(PATTERN.match(c) for c in codes)
