"""Delivery channels: one message out through e-mail (Django's mail API) or SMS (an HTTP gateway).

`channel_send` answers in three ways, and the dispatcher's states follow from them:
- it returns (the provider's message ID, '' if none): the gateway accepted the message;
- `SendFailed`: the gateway refused it or could not be reached before anything was handed over, so a retry
  cannot deliver twice (`permanent`: a retry cannot succeed either, e.g. a refused recipient);
- `OutcomeUnknown`: the request may have reached the gateway (a timeout after the message was handed over),
  so a blind retry might deliver twice; staff confirm or resend.

Each message carries the outbox key: as the SMS gateway's client message ID (a gateway de-duplicates a retried
send) and in the e-mail header X-SpineTrial-Key (a resend can be recognised). The body holds a live patient
link and the recipient is identifying data: neither appears in a log line or in an exception's text, and the
exceptions raised here are not chained to the library errors that name them (`from None`).

Settings are read at each send, never at import, so tests and operators can change them.
"""

import base64
import json
import logging
import re
import smtplib
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.utils import make_msgid
from http.client import HTTPException
from typing import NoReturn

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.console import EmailBackend as DjangoConsoleEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPEmailBackend
from django.core.mail.message import BadHeaderError
from django.core.mail.utils import DNS_NAME

from trial.privacy import mask_tokens

logger = logging.getLogger(__name__)

KEY_HEADER = "X-SpineTrial-Key"
DEFAULT_SMS_BODY = '{"to": "{to}", "text": "{body}", "client_message_id": "{client_id}"}'
PLACEHOLDER = re.compile(r"\{(to|body|client_id)\}")
# A gateway's answer is a small JSON object; a larger one is not read past this (its status already counts).
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Outgoing:
    key: str  # the outbox row's unique key: the idempotency / client message ID
    channel: str  # "email" or "sms"
    to: str  # e-mail address or phone number (never logged)
    subject: str  # e-mail only ("" for sms)
    body: str  # plain text; it contains a live patient link: never log it

    def __repr__(self) -> str:
        # A dataclass repr would print the address and the body into any traceback or log that shows it.
        return f"Outgoing(key={self.key!r}, channel={self.channel!r})"


class SendFailed(Exception):
    """The gateway refused the message or could not be reached before anything was sent.

    `reason` is short and names no address and no body; `permanent` says a retry cannot succeed.
    """

    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class OutcomeUnknown(Exception):
    """The request may have reached the gateway: never re-send blindly. `reason` names no address or body."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def channel_send(message: Outgoing) -> str:
    """Send through the configured backend of message.channel; the provider's message ID ('' if none).

    Raises SendFailed or OutcomeUnknown (above); an unknown channel is a SendFailed(permanent=True).
    """
    if message.channel == "email":
        return _email_send(message)
    if message.channel == "sms":
        return _sms_send(message)
    raise SendFailed(f"unknown channel {message.channel!r}", permanent=True)


# --- e-mail -------------------------------------------------------------------------------------------------


def _email_send(message: Outgoing) -> str:
    """One e-mail through settings.EMAIL_BACKEND; its Message-ID is the provider's ID."""
    message_id = make_msgid(domain=DNS_NAME.get_fqdn())
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={KEY_HEADER: message.key, "Message-ID": message_id},
    )
    backend = get_connection(fail_silently=False)
    if isinstance(backend, SMTPEmailBackend):
        _smtp_send(backend, email, message.key)
    else:
        # Console, file, in-memory: development and tests, nothing between us and the "gateway" to lose.
        try:
            backend.send_messages([email])
        except (BadHeaderError, ValueError):
            raise SendFailed("e-mail not sendable (bad header or address)", permanent=True) from None
    logger.info("e-mail sent key=%s", message.key)
    return message_id


def _smtp_send(backend: SMTPEmailBackend, email: EmailMessage, key: str) -> None:
    """Hand one e-mail to the SMTP server, telling a refusal before DATA from a loss after it."""
    try:
        backend.open()
    except OSError as exc:  # connection refused, timeout, TLS or login failure: nothing was sent
        _refused(key, f"SMTP server not reached ({type(exc).__name__})", permanent=False)
    data_started = _watch_data(backend.connection)
    try:
        backend.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        _refused(key, f"SMTP recipient refused ({','.join(map(str, codes))})", permanent=permanent)
    except smtplib.SMTPResponseException as exc:  # sender refused, DATA refused: the server said no
        _refused(key, f"SMTP refused ({exc.smtp_code})", permanent=exc.smtp_code >= 500)
    except (BadHeaderError, ValueError):
        _refused(key, "e-mail not sendable (bad header or address)", permanent=True)
    except (OSError, smtplib.SMTPException) as exc:  # timeout or disconnect without an answer
        _smtp_drop(backend)
        if data_started():
            logger.warning("e-mail outcome unknown key=%s (%s after DATA)", key, type(exc).__name__)
            raise OutcomeUnknown(f"SMTP {type(exc).__name__} after the message was handed over") from None
        _refused(key, f"SMTP connection lost before DATA ({type(exc).__name__})", permanent=False)
    finally:
        try:
            backend.close()
        except (OSError, smtplib.SMTPException):
            # The message was handed over (or refused) already; a failed QUIT changes nothing about it.
            logger.debug("SMTP QUIT failed key=%s", key)


def _smtp_drop(backend: SMTPEmailBackend) -> None:
    """Close the socket without QUIT: a server that did not answer the last command would keep us waiting."""
    connection, backend.connection = backend.connection, None
    if connection is not None:
        connection.close()


def _watch_data(connection: smtplib.SMTP):
    """A callable that says whether `connection` has begun the DATA command (the message may be delivered).

    smtplib reports a timeout the same way before and after DATA; only the point reached tells a refusal
    (safe to retry) from an unknown outcome, so the connection's `data` is wrapped to record it.
    """
    started = False
    original = connection.data

    def data(msg):
        nonlocal started
        started = True
        return original(msg)

    connection.data = data
    return lambda: started


def _refused(key: str, reason: str, *, permanent: bool) -> NoReturn:
    logger.warning("send failed key=%s permanent=%s: %s", key, permanent, reason)
    raise SendFailed(reason, permanent=permanent) from None


class ConsoleEmailBackend(DjangoConsoleEmailBackend):
    """Django's console backend, readable and private: in `make run` its stdout is a log file (var/log).

    The headers as sent but the subject decoded and the recipients hidden, then the plain body (not its
    transfer encoding, which could split a token across lines) with patient-link tokens masked.
    """

    def write_message(self, message):
        hidden = {"to", "cc", "bcc", "reply-to"}
        lines = [
            f"{name}: {message.subject if name.lower() == 'subject' else value}"
            for name, value in message.message().items()
            if name.lower() not in hidden
        ]
        lines.append(f"To: [{len(message.recipients())} recipient(s)]")
        self.stream.write(mask_tokens("\n".join(lines) + "\n\n" + message.body) + "\n" + "-" * 79 + "\n")


# --- SMS ----------------------------------------------------------------------------------------------------


def _sms_send(message: Outgoing) -> str:
    backend = getattr(settings, "SMS_BACKEND", "console")
    if backend == "console":
        return _sms_console(message)
    if backend == "http":
        return _sms_http(message)
    _refused(message.key, f"SMS_BACKEND {backend!r} is neither console nor http", permanent=False)


def _sms_console(message: Outgoing) -> str:
    """The development backend: one stdout line with the key, the length and the body, its token masked.

    Like Django's console e-mail backend it writes to stdout, which `make run` keeps in var/log: so masked.
    """
    body = mask_tokens(message.body)
    sys.stdout.write(f"SMS (console) key={message.key} length={len(message.body)} body={body!r}\n")
    sys.stdout.flush()
    logger.info("SMS sent key=%s backend=console", message.key)
    return ""


def sms_request_body(template: str, message: Outgoing) -> bytes:
    """The gateway's JSON body: `template` with {to}, {body}, {client_id} replaced inside its strings.

    The template is parsed first and the values put into its string values (and keys), so quotes,
    backslashes, newlines and any script come out as proper JSON; a value is never re-read for placeholders.
    """
    values = {"to": message.to, "body": message.body, "client_id": message.key}

    def fill(node):
        if isinstance(node, str):
            return PLACEHOLDER.sub(lambda match: values[match.group(1)], node)
        if isinstance(node, dict):
            return {fill(k): fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(item) for item in node]
        return node

    return json.dumps(fill(json.loads(template)), ensure_ascii=False).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without its body: report it instead of following it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _sms_http(message: Outgoing) -> str:
    """POST the JSON body to SMS_GATEWAY_URL with basic auth; the provider's ID from a JSON answer."""
    url = getattr(settings, "SMS_GATEWAY_URL", "")
    if not url.startswith(("http://", "https://")):
        _refused(message.key, "SMS_GATEWAY_URL is not an http(s) URL", permanent=False)
    try:
        data = sms_request_body(getattr(settings, "SMS_GATEWAY_BODY", DEFAULT_SMS_BODY), message)
    except (ValueError, TypeError):
        _refused(message.key, "SMS_GATEWAY_BODY is not a JSON template", permanent=False)
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
    user = getattr(settings, "SMS_GATEWAY_USER", "")
    if user:
        # Sent with the first request: urllib's auth handler would wait for a 401 and post the body twice.
        credentials = f"{user}:{getattr(settings, 'SMS_GATEWAY_PASSWORD', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 -- scheme checked
    timeout = float(getattr(settings, "SMS_GATEWAY_TIMEOUT", 10))
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            answer = _read_answer(response, message.key)
    except urllib.error.HTTPError as exc:
        exc.close()
        # 408 and 429 ask the client to come back later; every other 4xx will refuse the same request again.
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        _refused(message.key, f"SMS gateway answered {exc.code}", permanent=permanent)
    except urllib.error.URLError as exc:
        # urllib wraps only what fails while connecting and writing the request: the gateway has not
        # answered, and an incomplete request is not processed.
        _refused(message.key, f"SMS gateway not reached ({type(exc.reason).__name__})", permanent=False)
    except (OSError, HTTPException) as exc:  # the request was written; no answer came (timeout, reset)
        logger.warning("SMS outcome unknown key=%s (%s)", message.key, type(exc).__name__)
        raise OutcomeUnknown(f"SMS gateway gave no answer ({type(exc).__name__})") from None
    provider_id = _provider_id(answer)
    logger.info("SMS sent key=%s status=%s provider_id=%s", message.key, status, provider_id)
    return provider_id


def _read_answer(response, key: str) -> bytes:
    """The answer's body; a 2xx status already says the gateway took the message, so a failed read is ''."""
    try:
        return response.read(MAX_ANSWER_BYTES)
    except (OSError, HTTPException) as exc:
        logger.warning("SMS answer unreadable key=%s (%s): no provider ID", key, type(exc).__name__)
        return b""


def _provider_id(answer: bytes) -> str:
    """`id` or `message_id` of a JSON object answer, as text; '' when there is none."""
    try:
        parsed = json.loads(answer)
    except ValueError:
        return ""
    if not isinstance(parsed, dict):
        return ""
    for name in ("id", "message_id"):
        value = parsed.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)[:200]
    return ""
