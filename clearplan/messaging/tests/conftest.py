"""A real SMTP server (aiosmtpd) and a fake SMS provider (Twilio's API over http.server), each
on a free loopback port; helpers to switch the task backend and point Django's email and SMS
settings at them; a patient and a case to write to."""

from __future__ import annotations

import asyncio
import base64
import email
import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from clearplan.lib.sms_url import parse_sms_url
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.services import message_send
from clearplan.patients.tests.factories import PatientFactory
from clearplan.plans.models import Case

IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}


@dataclass
class Delivery:
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class CollectingHandler:
    """Accepts every message and keeps it. `refuse_recipients_with` makes the server refuse
    each recipient with that reply; `hold_first_message` keeps the first DATA waiting
    without an answer (as a server under load would), so a worker can be caught mid-send."""

    refuse_recipients_with: str | None = None
    hold_first_message: bool = False
    deliveries: list[Delivery] = field(default_factory=list)
    first_message_arrived: threading.Event = field(default_factory=threading.Event)
    _held: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients_with:
            return self.refuse_recipients_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold_first_message and not self._held:
            self._held = True
            self.first_message_arrived.set()
            # Never answered: the sender is killed while waiting, and this coroutine is
            # cancelled when its connection drops.
            await asyncio.sleep(120)
            return "451 4.3.0 Took too long"
        self.deliveries.append(
            Delivery(
                envelope_to=list(envelope.rcpt_tos),
                message=email.message_from_bytes(envelope.original_content, policy=policy.default),
            )
        )
        self.first_message_arrived.set()
        return "250 Message accepted for delivery"


class LoopbackController(Controller):
    """aiosmtpd's controller, listening on a port the operating system picks."""

    def __init__(self, handler: CollectingHandler) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, ready_timeout=10)

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    handler: CollectingHandler
    port: int

    @property
    def deliveries(self) -> list[Delivery]:
        return self.handler.deliveries


def _start(handler: CollectingHandler):
    controller = LoopbackController(handler)
    controller.start()
    return controller


@pytest.fixture
def smtp_server():
    handler = CollectingHandler()
    controller = _start(handler)
    try:
        yield SmtpServer(handler=handler, port=controller.port)
    finally:
        controller.stop()


@pytest.fixture
def refusing_smtp_server():
    handler = CollectingHandler(refuse_recipients_with="550 5.1.1 <patient@example.com>: no such mailbox here")
    controller = _start(handler)
    try:
        yield SmtpServer(handler=handler, port=controller.port)
    finally:
        controller.stop()


@pytest.fixture
def slow_smtp_server():
    handler = CollectingHandler(hold_first_message=True)
    controller = _start(handler)
    try:
        yield SmtpServer(handler=handler, port=controller.port)
    finally:
        controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def send_through_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


def run_worker_until_idle() -> None:
    """django-tasks-db's own worker, in this process: runs every task that is due, then returns."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def clearplan_log_text(caplog) -> str:
    """Everything logged during the test, formatted with tracebacks, except the test mail
    server's own log ("mail.log"), which records every message it receives."""
    return "\n".join(
        caplog.handler.format(record) for record in caplog.records if not record.name.startswith("mail.log")
    )


# ---------- A fake SMS provider speaking Twilio's Messages API ----------

FAKE_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
FAKE_AUTH_TOKEN = "fake-auth-token-for-tests"
FAKE_SENDER = "+61400000000"


@dataclass
class SmsRequest:
    path: str
    fields: dict[str, str]
    idempotency_token: str
    outcome: str  # "sent", "duplicate" (recognised by its idempotency token) or "refused"
    sid: str


@dataclass
class FakeSmsProvider:
    """Checks each request as Twilio would (path, basic auth, form fields, idempotency header),
    keeps the messages it accepts, and answers a repeat of an idempotency token with the first
    answer instead of sending again.

    `refuse_with` queues answers (status, JSON body) for the next requests. With `hold_first`
    the first message is accepted and recorded, then its answer is held until `release` is set
    (the sender is killed meanwhile)."""

    port: int = 0
    refuse_with: list[tuple[int, dict]] = field(default_factory=list)
    hold_first: bool = False
    requests: list[SmsRequest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    first_arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _answers: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def delivered(self) -> list[SmsRequest]:
        """The messages that went to phones: each idempotency token once."""
        return [request for request in self.requests if request.outcome == "sent"]

    def sms_url(self, *, sender: str = FAKE_SENDER) -> str:
        return (
            f"twilio://{FAKE_ACCOUNT_SID}:{FAKE_AUTH_TOKEN}@127.0.0.1:{self.port}"
            f"?from={quote(sender, safe='')}&scheme=http&timeout=30"
        )

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        expected_path = f"/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Messages.json"
        expected_auth = "Basic " + base64.b64encode(f"{FAKE_ACCOUNT_SID}:{FAKE_AUTH_TOKEN}".encode()).decode()
        length = int(handler.headers.get("Content-Length", "0"))
        fields = {name: values[0] for name, values in parse_qs(handler.rfile.read(length).decode()).items()}
        token = handler.headers.get("I-Twilio-Idempotency-Token", "")
        if handler.path != expected_path:
            self.problems.append(f"path {handler.path}")
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        if handler.headers.get("Authorization") != expected_auth:
            self.problems.append("authorization")
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        if not handler.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            self.problems.append("content type")
        missing = {"To", "Body", "StatusCallback"} - set(fields)
        if len({"From", "MessagingServiceSid"} & set(fields)) != 1:
            missing.add("From")
        if missing or not token:
            self.problems.append(f"missing {sorted(missing)} token={bool(token)}")
            return 400, {"code": 21604, "message": "A required parameter is missing", "status": 400}
        with self._lock:
            if token in self._answers:
                sid = self._answers[token]
                self.requests.append(SmsRequest(handler.path, fields, token, outcome="duplicate", sid=sid))
                return 201, {"sid": sid, "status": "queued"}
            if self.refuse_with:
                status, body = self.refuse_with.pop(0)
                self.requests.append(SmsRequest(handler.path, fields, token, outcome="refused", sid=""))
                return status, body
            sid = "SM" + uuid.uuid4().hex
            self._answers[token] = sid
            self.requests.append(SmsRequest(handler.path, fields, token, outcome="sent", sid=sid))
            hold = self.hold_first and len(self.delivered) == 1
        if hold:
            self.first_arrived.set()
            self.release.wait(timeout=120)
        return 201, {"sid": sid, "status": "queued", "to": fields["To"]}


def _provider_handler(provider: FakeSmsProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status, body = provider.handle(self)
            content = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except OSError:
                pass  # the sender was killed while its answer was held

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def sms_provider():
    provider = FakeSmsProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _provider_handler(provider))
    server.daemon_threads = True
    provider.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.release.set()
        server.shutdown()
        server.server_close()


def send_sms_through(settings, provider: FakeSmsProvider) -> None:
    sms = parse_sms_url(provider.sms_url(), outbox_allowed=False)
    settings.SMS_BACKEND = sms.backend
    settings.SMS_OPTIONS = sms.options
    settings.PUBLIC_BASE_URL = "https://clearplan.example.com"


# ---------- A patient and a case to write to ----------


@pytest.fixture
def patient(clinic):
    return PatientFactory(
        clinic=clinic, first_name="Mere", last_name="Ngata", mobile="+61491570678", email="mere.ngata@example.com"
    )


@pytest.fixture
def case(patient, dentist):
    return Case.objects.create(
        clinic=patient.clinic,
        patient=patient,
        dentist=dentist,
        conversation_date=date(2026, 3, 2),
        plan_type="oral_health",
        created_by=dentist,
    )


PATIENT_MOBILE = "+61491570678"
PATIENT_EMAIL = "mere.ngata@example.com"
SMS_TEXT = "Hi Mere, your treatment plan from Harbour Dental is ready: https://clearplan.example.com/p/abc"


def stored_message(case, **fields) -> OutboundMessage:
    """A message row about `case` as the worker or a report would leave it, without sending
    anything: an SMS, due now, unless `fields` say otherwise."""
    values = {
        "clinic": case.clinic,
        "case": case,
        "patient": case.patient,
        "channel": "sms",
        "purpose": "pack",
        "to_address": PATIENT_MOBILE,
        "body": "Your plan",
        "send_after": timezone.now(),
        **fields,
    }
    if values["channel"] == "email" and "to_address" not in fields:
        values["to_address"] = PATIENT_EMAIL
    return OutboundMessage.objects.create(**values)


def queue_sms(case, sender, **overrides) -> OutboundMessage:
    """A text message about `case` (or, with no case, `patient`) through message_send,
    committed (so its task is queued)."""
    arguments = {
        "clinic": case.clinic if case is not None else overrides["patient"].clinic,
        "channel": "sms",
        "to": "0491 570 678",
        "body": SMS_TEXT,
        "purpose": "pack",
        "case": case,
        "sender": sender,
        **overrides,
    }
    with transaction.atomic():
        return message_send(**arguments)
