"""The delivery channels against a real SMTP server and a real HTTP SMS gateway on loopback (servers.py).

Each failure mode is the server's own behaviour (down, refusing, answering late), never a patched library:
the channel must tell a refusal (SendFailed: transient or permanent) from an unknown outcome.
"""

import json
import logging
import os
import subprocess
import sys
import traceback

import pytest
from django.conf import settings as django_settings
from django.core.mail import EmailMessage
from django.utils import translation

from followup.messaging.channels import (
    KEY_HEADER,
    ConsoleEmailBackend,
    OutcomeUnknown,
    Outgoing,
    SendFailed,
    channel_send,
)

SETTINGS = (
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "EMAIL_TIMEOUT",
    "SMS_BACKEND",
    "SMS_GATEWAY_URL",
    "SMS_GATEWAY_USER",
    "SMS_GATEWAY_PASSWORD",
    "SMS_GATEWAY_BODY",
    "SMS_GATEWAY_TIMEOUT",
)
TOKEN = "Q3x9kLmN0pRsTuVw.sig-Zx81_aa"
LINK = f"https://spinetrial.example.org/p/{TOKEN}/"
ADDRESS = "wang.fang@patient.example.cn"
PHONE = "+8613800138000"
# Quotes, a backslash, newlines, Chinese, and a placeholder-looking text that must stay as written.
SMS_TEXT = f'您好，请完成“ODI”问卷：\n{LINK}\n"Reply STOP" \\ to opt out {{to}}'  # noqa: RUF001


def email_to(to: str = ADDRESS, *, key: str = "p42:v7:odi:email:open") -> Outgoing:
    return Outgoing(
        key=key,
        channel="email",
        to=to,
        subject="随访问卷提醒 / Follow-up questionnaire",
        body=f"请在本周内完成问卷。\nPlease answer this week:\n{LINK}\n",
    )


def sms_to(to: str = PHONE, *, key: str = "p42:v7:odi:sms:open", body: str = SMS_TEXT) -> Outgoing:
    return Outgoing(key=key, channel="sms", to=to, subject="", body=body)


# --- e-mail -------------------------------------------------------------------------------------------------


def test_an_email_reaches_the_smtp_server_with_its_subject_body_and_key(smtp_server, settings):
    settings.DEFAULT_FROM_EMAIL = "trial-office@hospital.example.cn"
    message = email_to()

    with translation.override("zh-hans"):  # the key header does not depend on the language
        provider_id = channel_send(message)

    [delivered] = smtp_server.wait_for(1)
    assert delivered.rcpt_tos == (ADDRESS,)
    assert delivered.mail_from == "trial-office@hospital.example.cn"
    # Django folds a long encoded subject onto a continuation line; unfolded it keeps that line's space.
    assert delivered.message["Subject"].lstrip() == message.subject
    assert delivered.body.rstrip("\n") == message.body.rstrip("\n")
    assert delivered.message[KEY_HEADER] == "p42:v7:odi:email:open"
    assert provider_id == delivered.message["Message-ID"]


def test_the_smtp_server_down_is_a_transient_failure_and_a_later_send_gets_through(smtp_server):
    smtp_server.stop()

    with pytest.raises(SendFailed) as failed:
        channel_send(email_to())

    assert failed.value.permanent is False
    assert "ConnectionRefusedError" in failed.value.reason
    smtp_server.start()  # back on the same port
    channel_send(email_to())
    assert smtp_server.keys() == ["p42:v7:odi:email:open"]


@pytest.mark.parametrize(("code", "permanent"), [(550, True), (553, True), (450, False), (452, False)])
def test_a_refused_recipient_is_permanent_on_5xx_and_transient_on_4xx(smtp_server, code, permanent):
    smtp_server.refuse(ADDRESS, code)

    with pytest.raises(SendFailed) as failed:
        channel_send(email_to())

    assert failed.value.permanent is permanent
    assert str(code) in failed.value.reason
    assert smtp_server.messages == []


def test_a_timeout_after_data_leaves_the_outcome_unknown(smtp_server, settings):
    settings.EMAIL_TIMEOUT = 0.5
    smtp_server.hang_after_data(5)

    with pytest.raises(OutcomeUnknown):
        channel_send(email_to())

    # The server did take it: a blind resend would have delivered it twice.
    assert smtp_server.keys() == ["p42:v7:odi:email:open"]


def test_a_timeout_before_data_is_a_transient_failure_not_an_unknown_outcome(smtp_server, settings):
    settings.EMAIL_TIMEOUT = 0.5
    smtp_server.hang_at_mail(5)

    with pytest.raises(SendFailed) as failed:
        channel_send(email_to())

    assert failed.value.permanent is False
    assert "before DATA" in failed.value.reason
    assert smtp_server.messages == []


@pytest.mark.parametrize(("code", "permanent"), [(553, True), (451, False)])
def test_a_refused_sender_is_a_refusal(smtp_server, code, permanent):
    smtp_server.refuse_sender(code)

    with pytest.raises(SendFailed) as failed:
        channel_send(email_to())

    assert (failed.value.permanent, failed.value.reason) == (permanent, f"SMTP refused ({code})")
    assert smtp_server.messages == []


def test_an_address_django_cannot_send_to_is_permanent(smtp_server):
    with pytest.raises(SendFailed) as failed:
        channel_send(email_to("not an address\nBcc: everyone@example.org"))

    assert failed.value.permanent is True
    assert smtp_server.messages == []


def test_the_console_email_backend_masks_the_link_token(settings, capsys):
    settings.EMAIL_BACKEND = "followup.messaging.channels.ConsoleEmailBackend"

    channel_send(email_to())

    out = capsys.readouterr().out
    assert "/p/[token]/" in out
    assert f"Subject: {email_to().subject}\n" in out  # decoded, in the patient's language
    assert "请在本周内完成问卷。" in out
    assert f"{KEY_HEADER}: p42:v7:odi:email:open\n" in out
    assert TOKEN not in out
    assert ADDRESS not in out
    # A line too long for 8bit goes quoted-printable; a soft break may split the token: the plain body shows.
    for length in (1000, 1010):  # the soft break falls after the token's key, then inside it
        long_line = "x" * length + " " + LINK
        assert ConsoleEmailBackend().send_messages([EmailMessage("s", long_line, to=["a@b.example"])]) == 1
        out = capsys.readouterr().out
        assert "/p/[token]/" in out
        assert [piece for piece in ("Q3x9kL", "RsTuVw", "Zx81_aa") if piece in out] == []


def test_every_setting_is_documented():
    readme = (django_settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    example = (django_settings.BASE_DIR / "deploy" / "env.example").read_text(encoding="utf-8")
    for name in SETTINGS:
        assert f"`{name}`" in readme, name
        assert f"\n{name}=" in example, name
        assert hasattr(django_settings, name), name


# --- SMS ----------------------------------------------------------------------------------------------------


def test_an_sms_reaches_the_gateway_with_basic_auth_and_the_templated_json(sms_gateway):
    provider_id = channel_send(sms_to())

    [request] = sms_gateway.requests
    assert request.method == "POST"
    assert request.path == "/v1/sms"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["authorization"] == "Basic c3BpbmV0cmlhbDpnYXRld2F5LXBAc3M6d8O2cmQ="
    assert json.loads(request.body.decode("utf-8")) == {
        "to": PHONE,
        "text": SMS_TEXT,
        "client_message_id": "p42:v7:odi:sms:open",
    }
    assert provider_id == "gw-1"


def test_a_template_of_its_own_shape_is_filled_inside_its_strings(sms_gateway, settings):
    settings.SMS_GATEWAY_BODY = json.dumps(
        {
            "messages": [{"dest": "{to}", "content": "SpineTrial: {body}", "ref": "{client_id}"}],
            "sender": "SPINE",
            "priority": 1,
        }
    )
    sms_gateway.id_field = "sender"  # the ID is nested here: the gateway de-duplicates on a top-level field

    channel_send(sms_to())

    assert sms_gateway.requests[0].json == {
        "messages": [{"dest": PHONE, "content": f"SpineTrial: {SMS_TEXT}", "ref": "p42:v7:odi:sms:open"}],
        "sender": "SPINE",
        "priority": 1,
    }


def test_a_retried_sms_carries_the_same_client_id_and_the_gateway_sends_it_once(sms_gateway):
    first = channel_send(sms_to())
    second = channel_send(sms_to())

    assert first == second == "gw-1"
    assert [r.duplicate for r in sms_gateway.requests] == [False, True]
    assert len(sms_gateway.sent()) == 1


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (502, False), (503, False), (429, False), (400, True), (422, True)],
)
def test_a_gateway_refusal_is_transient_on_5xx_and_permanent_on_4xx(sms_gateway, status, permanent):
    sms_gateway.fail(status)

    with pytest.raises(SendFailed) as failed:
        channel_send(sms_to())

    assert failed.value.permanent is permanent
    assert failed.value.reason == f"SMS gateway answered {status}"
    assert sms_gateway.sent() == []


@pytest.mark.parametrize(
    ("raw", "provider_id"),
    [
        (b'{"message_id": 8812, "status": "accepted"}', "8812"),
        (b'{"status": "accepted"}', ""),
        (b"OK", ""),
        (b"[1, 2]", ""),
    ],
)
def test_the_provider_id_is_read_from_a_json_answer_when_there_is_one(sms_gateway, raw, provider_id):
    sms_gateway.reply(raw)

    assert channel_send(sms_to()) == provider_id
    assert len(sms_gateway.sent()) == 1


def test_wrong_gateway_credentials_are_a_refusal(sms_gateway, settings):
    settings.SMS_GATEWAY_PASSWORD = "wrong"

    with pytest.raises(SendFailed) as failed:
        channel_send(sms_to())

    assert failed.value.reason == "SMS gateway answered 401"
    assert sms_gateway.sent() == []


def test_the_gateway_down_is_a_transient_failure(sms_gateway):
    sms_gateway.stop()

    with pytest.raises(SendFailed) as failed:
        channel_send(sms_to())

    assert failed.value.permanent is False
    sms_gateway.start()
    assert channel_send(sms_to()) == "gw-1"


def test_a_gateway_that_hangs_past_the_timeout_leaves_the_outcome_unknown(sms_gateway, settings):
    settings.SMS_GATEWAY_TIMEOUT = 0.5
    sms_gateway.hang(5)

    with pytest.raises(OutcomeUnknown):
        channel_send(sms_to())

    # The gateway took it; resending with the same key is answered from its de-duplication, not sent again.
    assert channel_send(sms_to()) == "gw-1"
    assert len(sms_gateway.sent()) == 1


def test_a_wrong_gateway_path_is_a_permanent_refusal(sms_gateway, settings):
    settings.SMS_GATEWAY_URL = sms_gateway.url + "/../nowhere"

    with pytest.raises(SendFailed) as failed:
        channel_send(sms_to())

    assert failed.value.reason == "SMS gateway answered 404"
    assert failed.value.permanent is True


def test_an_unusable_configuration_is_a_transient_failure_without_a_request(sms_gateway, settings):
    settings.SMS_GATEWAY_BODY = '{"to": {to}}'
    with pytest.raises(SendFailed, match="SMS_GATEWAY_BODY"):
        channel_send(sms_to())
    settings.SMS_GATEWAY_URL = "file:///etc/passwd"
    with pytest.raises(SendFailed, match="SMS_GATEWAY_URL"):
        channel_send(sms_to())
    assert sms_gateway.requests == []


def test_the_console_sms_backend_writes_key_length_and_masked_body(settings, capsys, sms_gateway):
    settings.SMS_BACKEND = "console"

    assert channel_send(sms_to()) == ""

    out = capsys.readouterr().out
    assert f"key=p42:v7:odi:sms:open length={len(SMS_TEXT)} " in out
    assert "/p/[token]/" in out
    assert TOKEN not in out
    assert PHONE not in out
    assert out.count("\n") == 1
    assert sms_gateway.requests == []  # nothing leaves the machine


def test_an_unknown_channel_is_permanent():
    with pytest.raises(SendFailed) as failed:
        channel_send(Outgoing(key="k", channel="fax", to=PHONE, subject="", body=LINK))
    assert failed.value.permanent is True


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SMS_BACKEND": "carrier-pigeon"}, "SMS_BACKEND must be console or http"),
        ({"SMS_BACKEND": "http"}, "SMS_BACKEND=http needs SMS_GATEWAY_URL"),
        ({"SMS_GATEWAY_BODY": "{to}"}, "SMS_GATEWAY_BODY must be JSON"),
    ],
)
def test_a_wrong_sms_setting_stops_start_up(variables, message):
    env = {name: value for name, value in os.environ.items() if not name.startswith("SMS_")}
    env.update(DEBUG="1", **variables)
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        capture_output=True,
        text=True,
        cwd=django_settings.BASE_DIR,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr


# --- privacy ------------------------------------------------------------------------------------------------


def _every_outcome(smtp_server, sms_gateway, settings) -> list[BaseException]:
    """Run each outcome of both channels once; the exceptions raised."""
    settings.EMAIL_TIMEOUT = 0.5
    settings.SMS_GATEWAY_TIMEOUT = 0.5
    raised = []

    def attempt(message):
        try:
            channel_send(message)
        except (SendFailed, OutcomeUnknown) as exc:
            raised.append(exc)

    attempt(email_to())
    smtp_server.refuse(ADDRESS, 550)
    attempt(email_to())
    smtp_server.refuse(ADDRESS, 451)
    attempt(email_to())
    smtp_server.refused.clear()
    smtp_server.hang_after_data(5)
    attempt(email_to())
    smtp_server.stop()
    attempt(email_to())
    attempt(sms_to())
    sms_gateway.fail(500)
    attempt(sms_to(key="k2"))
    sms_gateway.fail(400)
    attempt(sms_to(key="k3"))
    sms_gateway.hang(5)
    attempt(sms_to(key="k4"))
    sms_gateway.stop()
    attempt(sms_to(key="k5"))
    settings.SMS_BACKEND = "console"
    attempt(sms_to(key="k6"))
    return raised


def test_no_log_line_and_no_error_names_the_address_the_phone_or_the_token(
    smtp_server, sms_gateway, settings, caplog, capsys
):
    caplog.set_level(logging.DEBUG)

    raised = _every_outcome(smtp_server, sms_gateway, settings)

    assert len(raised) == 8  # 4 e-mail, 4 SMS failures: every path ran
    assert {type(exc) for exc in raised} == {SendFailed, OutcomeUnknown}
    logged = [record.getMessage() for record in caplog.records]
    assert any("key=p42:v7:odi:sms:open" in line for line in logged)  # the log does name the message
    texts = [
        *logged,
        *(record.exc_text or "" for record in caplog.records),
        *("".join(traceback.format_exception(exc)) for exc in raised),
        *(repr(exc) for exc in raised),
        repr(email_to()),
        capsys.readouterr().out,
    ]
    for secret in (ADDRESS, PHONE, TOKEN, "wang.fang"):
        assert [text for text in texts if secret in text] == []
