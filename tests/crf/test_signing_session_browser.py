"""Two forms signed in one browser session: the first signing asks for the user ID and the password, the
second only the password (21 CFR 11.200(a)(1)). Screenshots: /tmp/signing_first.png and
/tmp/signing_second.png."""

import re

import pytest

from crf import services
from crf.models import Signature

from ..browser import BROWSER_MARKS, SHOTS, choose
from ..factories import PASSWORD
from .conftest import PROCEDURE, current_version, put
from .test_browser import log_in

pytestmark = [*BROWSER_MARKS, pytest.mark.frozen]


def test_two_forms_signed_in_one_session(
    transactional_db, live_server, staff, clients, make_participant, page
):
    from playwright.sync_api import expect

    participants = [make_participant(), make_participant()]
    for participant in participants:
        put(clients["coordinator"], participant, PROCEDURE)
        services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
        services.crf_verify(
            actor=staff["monitor"],
            participant=participant,
            form_code="procedure",
            expected_version=current_version(participant),
        )
    first, second = (f"/participants/{p.study_id}/forms/procedure/" for p in participants)
    status = page.locator("h1 [data-role=status]")
    user_id = page.locator("#id_sign-username")

    # the session's first signing: the user ID is asked, and a wrong one refused beside the field
    log_in(page, live_server, staff["investigator"], first)
    expect(user_id).to_be_visible()
    page.screenshot(path=SHOTS / "signing_first.png", full_page=True)
    choose(page, "id_sign-meaning_0")
    user_id.fill("mon")
    page.fill("#id_sign-password", PASSWORD)
    page.get_by_role("button", name="Sign the form").click()
    expect(page.locator(".crf-sign")).to_contain_text("This is not your user ID; the form was not signed.")
    choose(page, "id_sign-meaning_0")
    user_id.fill(staff["investigator"].username)
    page.fill("#id_sign-password", PASSWORD)
    page.get_by_role("button", name="Sign the form").click()
    page.wait_for_url(re.compile(re.escape(first) + "$"))
    expect(status).to_have_text("Signed")

    # the second, in the same session: the password alone, no user ID field
    page.goto(f"{live_server.url}{second}")
    expect(page.locator("#id_sign-password")).to_be_visible()
    expect(user_id).to_have_count(0)
    page.screenshot(path=SHOTS / "signing_second.png", full_page=True)
    choose(page, "id_sign-meaning_0")
    page.fill("#id_sign-password", PASSWORD)
    page.get_by_role("button", name="Sign the form").click()
    page.wait_for_url(re.compile(re.escape(second) + "$"))
    expect(status).to_have_text("Signed")
    assert Signature.objects.filter(signer=staff["investigator"]).count() == 2
