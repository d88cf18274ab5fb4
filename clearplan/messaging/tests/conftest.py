"""A real SMTP server (aiosmtpd) on a free loopback port, and helpers to switch the task
backend and point Django's email settings at a server."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django_tasks_db.management.commands.db_worker import Worker

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
