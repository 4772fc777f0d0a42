"""CRF pages through a form's life cycle: complete, verify, sign, lock and unlock; the role refusals as
friendly 403 pages (in Chinese too), the signature's password and meaning, what is missing to complete, the
reason a change needs after completion, field history."""

import pytest

from crf import services
from crf.models import FormRecord, Signature

from ..factories import PASSWORD
from .conftest import PROCEDURE, current_version, put
from .page_helpers import logged_in, page_url, procedure_post

# The services judge this module's fixed dates against the site's today: the clock is stopped at
# FROZEN_AT (tests/conftest.py), after every one of them, so the tests mean the same on any day.
pytestmark = [pytest.mark.django_db, pytest.mark.frozen]


# --- life cycle -----------------------------------------------------------------------------------------


def test_life_cycle_through_the_pages(staff, participant):
    coordinator, monitor = logged_in(staff["coordinator"]), logged_in(staff["monitor"])
    investigator, dm = logged_in(staff["investigator"]), logged_in(staff["data_manager"])
    coordinator.post(page_url(participant), procedure_post())
    page = coordinator.get(page_url(participant)).content.decode()
    assert "Mark complete" in page and "Verify" not in page

    done = coordinator.post(page_url(participant, step="complete"), {"version": "1"}, follow=True)
    assert "The form is complete." in done.content.decode()
    assert FormRecord.objects.get().status == "complete"

    page = monitor.get(page_url(participant)).content.decode()
    assert 'id="crf-entry"' not in page and "Verify (source data verified)" in page  # read-only for monitors
    monitor.post(page_url(participant, step="verify"), {"version": "2"})
    assert FormRecord.objects.get().status == "verified"

    page = investigator.get(page_url(participant)).content.decode()
    assert "Electronic signature" in page and 'data-role="printed-name">Test Inv07<' in page
    assert "I take responsibility for the data in this form" in page
    signed = investigator.post(
        page_url(participant, step="sign"),
        {
            "version": "3",
            "sign-meaning": "responsibility",
            "sign-username": "inv07",
            "sign-password": PASSWORD,
        },
        follow=True,
    )
    html = signed.content.decode()
    assert "Signed by Test Inv07" in html and 'data-valid="true"' in html
    signature = Signature.objects.get()
    assert (signature.printed_name, signature.meaning, signature.record_version) == (
        "Test Inv07",
        "responsibility",
        4,
    )

    dm.post(page_url(participant, step="lock"), {"version": "4"})
    assert FormRecord.objects.get().status == "locked"
    page = coordinator.get(page_url(participant)).content.decode()
    assert 'id="crf-entry"' not in page and "Locked" in page  # read-only once locked

    no_reason = dm.post(page_url(participant, step="unlock"), {"version": "5", "unlock-reason": ""})
    assert no_reason.status_code == 400 and "This field is required." in no_reason.content.decode()
    assert FormRecord.objects.get().status == "locked"
    dm.post(page_url(participant, step="unlock"), {"version": "5", "unlock-reason": "Correct the operator"})
    assert FormRecord.objects.get().status == "signed"


@pytest.mark.parametrize(
    ("role", "step", "message"),
    [
        (
            "monitor",
            "complete",
            "Only the research coordinator or investigator of site 07 can mark this form complete.",
        ),
        ("coordinator", "verify", "Only the monitor of site 07 can verify this form."),
        ("coordinator", "lock", "Only the data manager of site 07 can lock this form."),
        ("data_manager", "verify", "Only the monitor of site 07 can verify this form."),
    ],
)
def test_role_refusals_are_friendly_403_pages(staff, clients, participant, role, step, message):
    put(clients["coordinator"], participant, PROCEDURE)
    if step != "complete":
        services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    response = logged_in(staff[role]).post(page_url(participant, step=step), {"version": ""})
    assert response.status_code == 403
    assert message in response.content.decode()


def test_refusals_in_chinese(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    response = logged_in(staff["monitor"], "zh-hans").post(page_url(participant), procedure_post(1))
    assert response.status_code == 403
    # the permission matrix's refusal (config/permissions.py), before the view: who may, in Chinese
    assert "只有研究协调员或研究者可以执行此操作。" in response.content.decode()


def test_a_monitor_cannot_save_and_a_wrong_step_is_explained(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    assert logged_in(staff["monitor"]).post(page_url(participant), procedure_post(1)).status_code == 403
    early = logged_in(staff["monitor"]).post(page_url(participant, step="verify"), {"version": "1"})
    assert early.status_code == 409
    assert "This step is not possible now: the form is draft." in early.content.decode()


def test_signing_needs_the_right_password_and_a_meaning(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    services.crf_verify(
        actor=staff["monitor"],
        participant=participant,
        form_code="procedure",
        expected_version=current_version(participant),
    )
    investigator = logged_in(staff["investigator"])
    wrong = investigator.post(
        page_url(participant, step="sign"),
        {"version": "3", "sign-meaning": "approval", "sign-username": "inv07", "sign-password": "nope"},
    )
    assert wrong.status_code == 403
    assert "The password is not correct; the form was not signed." in wrong.content.decode()
    no_meaning = investigator.post(
        page_url(participant, step="sign"), {"version": "3", "sign-password": PASSWORD}
    )
    assert no_meaning.status_code == 400
    monitor = logged_in(staff["monitor"]).post(
        page_url(participant, step="sign"),
        {"version": "3", "sign-meaning": "approval", "sign-username": "mon", "sign-password": PASSWORD},
    )
    assert monitor.status_code == 403
    # a monitor signs nowhere: the permission matrix refuses before the view
    assert "Only the investigator or principal investigator can do this." in monitor.content.decode()
    assert not Signature.objects.exists() and FormRecord.objects.get().status == "verified"


def test_completing_an_incomplete_form_shows_what_is_missing(staff, clients, participant):
    put(clients["coordinator"], participant, {"operator": "Dr Demo"})
    response = logged_in(staff["coordinator"]).post(page_url(participant, step="complete"), {"version": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The form cannot be completed yet." in html
    assert 'id="id_procedure_date_errors"><li>Required to complete the form.</li>' in html
    assert FormRecord.objects.get().status == "draft"


def test_a_reason_is_required_after_completion(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    services.crf_complete(actor=staff["coordinator"], participant=participant, form_code="procedure")
    services.crf_verify(
        actor=staff["monitor"],
        participant=participant,
        form_code="procedure",
        expected_version=current_version(participant),
    )
    client = logged_in(staff["coordinator"])
    page = client.get(page_url(participant)).content.decode()
    assert 'name="reason"' in page and "a change needs a reason" in page
    refused = client.post(page_url(participant), procedure_post(3, operator="Dr B"))
    assert refused.status_code == 400
    assert "Give a reason for the change." in refused.content.decode()
    assert 'value="Dr B"' in refused.content.decode()
    assert FormRecord.objects.get().data["operator"] == "Dr Demo"
    saved = client.post(page_url(participant), procedure_post(3, operator="Dr B", reason="Operator misread"))
    assert saved.status_code == 302
    record = FormRecord.objects.get()
    assert (record.data["operator"], record.status, record.verified_by) == ("Dr B", "complete", None)
    html = client.get(page_url(participant)).content.decode()
    assert "Operator misread" in html  # in the field's history and the audit trail
    assert 'Dr Demo</span> → <span class="new">Dr B' in html


def test_field_history_is_shown_beside_the_field(staff, clients, participant):
    put(clients["coordinator"], participant, PROCEDURE)
    put(clients["coordinator"], participant, PROCEDURE | {"operative_time": 45}, version=1)
    html = logged_in(staff["monitor"]).get(page_url(participant)).content.decode()
    field = html[html.index('id="f-operative_time"') : html.index('id="f-intraop_complications"')]
    assert "History (2)" in field
    assert '<span class="old">38 min</span> → <span class="new">45 min</span>' in field
    assert "Kyphoplasty (PKP)" in html[html.index('id="history"') :]  # choice labels in the trail
