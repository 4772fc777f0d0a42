"""Real loopback servers for the delivery channels: an SMTP server (aiosmtpd) and an HTTP SMS gateway.

Both listen on 127.0.0.1 on a free port, in a thread of the test process, record what they receive and can be
scripted to fail the way real ones do. Each can be stopped and started again on the same port (a server down,
then back). `env()` gives the environment variables that point a subprocess (a real Celery worker) at them;
the fixtures point this process's Django settings at them.
"""

import asyncio
import base64
import email
import email.policy
import http.server
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

KEY_HEADER = "X-SpineTrial-Key"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, *, timeout: float = 10, what: str = "condition") -> None:
    """Poll `condition` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


# --- SMTP ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """One message the SMTP server accepted (answered 250 to, or was still answering when it hung)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage  # parsed with email.policy.default: headers and body decoded

    @property
    def key(self) -> str:
        return self.message[KEY_HEADER]

    @property
    def body(self) -> str:
        """The decoded text, with the wire's CRLF line ends read back as newlines."""
        return self.message.get_content().replace("\r\n", "\n")


class _SMTPHandler:
    def __init__(self, server: "SMTPServer"):
        self.server = server

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.server.mail_delay:
            await asyncio.sleep(self.server.mail_delay)  # before DATA: nothing can be delivered
        if self.server.sender_refused:
            return f"{self.server.sender_refused} Sender refused by the test server"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.server.refused.get(address.lower())
        if code is not None:
            enhanced = "5.1.1" if code >= 500 else "4.2.1"
            return f"{code} {enhanced} Recipient refused by the test server"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        delivered = Delivered(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=email.message_from_bytes(envelope.original_content, policy=email.policy.default),
        )
        with self.server.lock:
            self.server.delivered.append(delivered)
        if self.server.data_delay:
            # The message is in: only the answer is late, as when a client times out after DATA.
            await asyncio.sleep(self.server.data_delay)
        return "250 2.0.0 Message accepted"


class SMTPServer:
    """A real SMTP server on 127.0.0.1 that keeps every message it accepts, in order."""

    def __init__(self, port: int | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.delivered: list[Delivered] = []
        self.refused: dict[str, int] = {}  # address (lower case) -> the code RCPT answers
        self.data_delay = 0.0
        self.mail_delay = 0.0
        self.sender_refused = 0  # the code MAIL FROM answers; 0: accepted
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen on self.port (the same after a stop): a new controller each time, the old loop is closed."""
        assert self._controller is None, "already running"
        controller = Controller(_SMTPHandler(self), hostname=self.host, port=self.port)
        deadline = time.monotonic() + 5
        while True:
            try:
                controller.start()
                break
            except OSError:  # the old listener's socket not yet released
                if time.monotonic() > deadline:
                    raise
                controller = Controller(_SMTPHandler(self), hostname=self.host, port=self.port)
                time.sleep(0.05)
        self._controller = controller

    def stop(self) -> None:
        """Close the listener: a new connection is refused until start()."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, address: str, code: int = 550) -> None:
        """Answer RCPT TO for `address` with `code` (5xx: permanent, 4xx: try later)."""
        self.refused[address.lower()] = code

    def refuse_sender(self, code: int) -> None:
        """Answer MAIL FROM with `code` (0: accept again)."""
        self.sender_refused = code

    def hang_at_mail(self, seconds: float) -> None:
        """Answer MAIL FROM only after `seconds`: a server stuck before any message was handed over."""
        self.mail_delay = seconds

    def hang_after_data(self, seconds: float) -> None:
        """Keep each message but answer the end of DATA only after `seconds` (0: at once)."""
        self.data_delay = seconds

    @property
    def messages(self) -> list[Delivered]:
        with self.lock:
            return list(self.delivered)

    def keys(self) -> list[str]:
        """The X-SpineTrial-Key of each accepted message, in order (a key twice is a duplicate delivery)."""
        return [delivered.key for delivered in self.messages]

    def wait_for(self, count: int, *, timeout: float = 10) -> list[Delivered]:
        wait_until(lambda: len(self.messages) >= count, timeout=timeout, what=f"{count} e-mail(s)")
        return self.messages

    def env(self) -> dict[str, str]:
        """Environment variables that point config/settings.py (a subprocess's) at this server."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": str(self.port),
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": "0",
        }


@pytest.fixture
def smtp_server(settings):
    """A running SMTPServer; Django's EMAIL_BACKEND is SMTP pointing at it. Stopped after the test."""
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    # aiosmtpd logs each SMTP line, addresses included: that is the test server's log, not the project's.
    server_log = logging.getLogger("mail.log")
    level, server_log.level = server_log.level, logging.WARNING
    try:
        yield server
    finally:
        server.stop()
        server_log.setLevel(level)


# --- SMS gateway --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayRequest:
    """One request the gateway received, and what it did with it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: object  # the parsed body, None when it was not JSON
    status: int  # what the gateway answered (or was going to, when it hung)
    duplicate: bool  # a client message ID it had accepted before: answered with the first ID, not sent again
    provider_id: str = ""


@dataclass
class _Action:
    status: int = 200
    hang: float = 0.0
    deliver: bool = True
    raw: bytes | None = None  # an answer body of its own for a 200 (no JSON, another shape)


@dataclass
class SMSGateway:
    """A real HTTP server standing in for an SMS gateway: basic auth, JSON in, {"id": ...} out.

    It de-duplicates on the client message ID, like a real gateway: a second request with an ID it accepted
    is answered 200 with the first ID and is not delivered again. Script failures with `fail` and `hang`.
    """

    user: str = "spinetrial"
    password: str = "gateway-p@ss:wörd"
    id_field: str = "client_message_id"
    path: str = "/v1/sms"
    port: int = 0
    requests: list[GatewayRequest] = field(default_factory=list)
    delivered: dict[str, dict] = field(default_factory=dict)  # client message ID -> the JSON body accepted
    _script: list[_Action] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _httpd: http.server.ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> None:
        """Listen on 127.0.0.1 (on the same port as before, after a stop)."""
        assert self._httpd is None, "already running"
        self._stopping.clear()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening; a hanging answer is cut short."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def fail(self, status: int, *, times: int = 1) -> None:
        """Answer the next `times` requests with `status` (500, 400...), delivering nothing."""
        with self._lock:
            self._script.extend(_Action(status=status) for _ in range(times))

    def hang(self, seconds: float, *, deliver: bool = True, times: int = 1) -> None:
        """Take the next `times` requests (delivered when `deliver`) and answer only after `seconds`."""
        with self._lock:
            self._script.extend(_Action(hang=seconds, deliver=deliver) for _ in range(times))

    def reply(self, raw: bytes, *, times: int = 1) -> None:
        """Deliver the next `times` requests but answer 200 with `raw` as the body."""
        with self._lock:
            self._script.extend(_Action(raw=raw) for _ in range(times))

    def sent(self) -> list[GatewayRequest]:
        """The requests that delivered a new message (not refused, not duplicates)."""
        with self._lock:
            return [r for r in self.requests if 200 <= r.status < 300 and not r.duplicate]

    def wait_for(self, count: int, *, timeout: float = 10) -> list[GatewayRequest]:
        wait_until(lambda: len(self.requests) >= count, timeout=timeout, what=f"{count} SMS request(s)")
        with self._lock:
            return list(self.requests)

    def env(self) -> dict[str, str]:
        """Environment variables that point config/settings.py (a subprocess's) at this gateway."""
        return {
            "SMS_BACKEND": "http",
            "SMS_GATEWAY_URL": self.url,
            "SMS_GATEWAY_USER": self.user,
            "SMS_GATEWAY_PASSWORD": self.password,
        }

    def _authorised(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return header == f"Basic {expected}"

    def _handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes, float]:
        """What to answer: (status, answer body, seconds to wait first). Records the request."""
        try:
            parsed = json.loads(body.decode("utf-8"))
        except ValueError:
            parsed = None
        with self._lock:
            action = self._script.pop(0) if self._script else _Action()
            duplicate, provider_id = False, ""
            if not self._authorised(headers.get("authorization")):
                status, answer = 401, {"error": "unauthorised"}
            elif path != self.path or method != "POST":
                status, answer = 404, {"error": "not found"}
            elif action.status != 200:
                status, answer = action.status, {"error": f"scripted {action.status}"}
            elif not isinstance(parsed, dict) or not parsed.get(self.id_field):
                status, answer = 400, {"error": f"a JSON object with {self.id_field} is required"}
            else:
                client_id = str(parsed[self.id_field])
                duplicate = client_id in self.delivered
                if not duplicate and action.deliver:
                    self.delivered[client_id] = {"id": f"gw-{len(self.delivered) + 1}", "json": parsed}
                provider_id = self.delivered[client_id]["id"] if client_id in self.delivered else ""
                status, answer = 200, {"id": provider_id, "status": "queued"}
            self.requests.append(
                GatewayRequest(
                    method=method,
                    path=path,
                    headers=headers,
                    body=body,
                    json=parsed,
                    status=status,
                    duplicate=duplicate,
                    provider_id=provider_id,
                )
            )
        if status == 200 and action.raw is not None:
            return status, action.raw, action.hang
        return status, json.dumps(answer).encode(), action.hang

    def _handler_class(self):
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, payload, delay = gateway._handle(self.command, self.path, headers, body)
                if delay and gateway._stopping.wait(delay):
                    return  # stopped while hanging: the client never gets an answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting (its timeout): nothing to answer

            do_GET = do_POST

            def log_message(self, format, *args):
                pass  # the request line is the test's business, not stderr's

        return Handler


@pytest.fixture
def sms_gateway(settings):
    """A running SMSGateway; the SMS_* settings point at it (basic auth, the default body template)."""
    gateway = SMSGateway()
    gateway.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_USER = gateway.user
    settings.SMS_GATEWAY_PASSWORD = gateway.password
    try:
        yield gateway
    finally:
        gateway.stop()
