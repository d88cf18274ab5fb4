"""What the team reads about a case's pack: whether and when it went, its versions, links,
messages, the patient's responses and signatures. Objects named in a staff address are found
through the case (itself found by `get_case_for_user`), so another clinic's are a 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone

from clearplan.packs.models import ConsentSignature, PackLink, PackSend, PackVersion, PatientResponse
from clearplan.packs.versions import case_changed_since

if TYPE_CHECKING:
    from clearplan.plans.models import Case

M = TypeVar("M", bound=Model)


def _one_of_case(queryset: QuerySet[M], public_id: uuid.UUID | str, what: str) -> M:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as error:
        raise Http404(f"No such {what}.") from error
    found = queryset.filter(public_id=key).first()
    if found is None:
        raise Http404(f"No such {what}.")
    return found


def get_send_of_case(case: Case, public_id: uuid.UUID | str) -> PackSend:
    return _one_of_case(PackSend.objects.filter(case=case).select_related("case", "link", "version"), public_id, "send")


def get_link_of_case(case: Case, public_id: uuid.UUID | str) -> PackLink:
    return _one_of_case(PackLink.objects.filter(case=case).select_related("case"), public_id, "link")


def get_version_of_case(case: Case, public_id: uuid.UUID | str) -> PackVersion:
    return _one_of_case(PackVersion.objects.filter(case=case), public_id, "version")


def get_response_of_case(case: Case, public_id: uuid.UUID | str) -> PatientResponse:
    return _one_of_case(PatientResponse.objects.filter(case=case), public_id, "response")


def get_signature_of_case(case: Case, public_id: uuid.UUID | str) -> ConsentSignature:
    return _one_of_case(
        ConsentSignature.objects.filter(case=case).select_related("case__clinic", "case__patient", "version"),
        public_id,
        "signature",
    )


def latest_send(case: Case) -> PackSend | None:
    return (
        PackSend.objects.filter(case=case)
        .exclude(status=PackSend.Status.CANCELLED)
        .select_related("sent_by", "link", "version")
        .order_by("-created_at", "-id")
        .first()
    )


def send_for_link(link: PackLink) -> PackSend | None:
    """The last send that carried this link (its words and channels are what "Send a new link" repeats)."""
    return link.sends.order_by("-created_at", "-id").first()


@dataclass(frozen=True)
class PackStatus:
    """Not sent / scheduled / sent, and for a sent pack whether it was opened."""

    state: str  # "not_sent" | "scheduled" | "sent"
    send: PackSend | None = None
    first_opened_at: datetime | None = None

    @property
    def viewed(self) -> bool:
        return self.first_opened_at is not None


def is_waiting(send: PackSend) -> bool:
    """A scheduled send whose time has not come; once it has, the pack counts as sent."""
    return send.status == PackSend.Status.SCHEDULED and send.send_at > timezone.now()


def pack_status(case: Case) -> PackStatus:
    send = latest_send(case)
    if send is None:
        return PackStatus("not_sent")
    if is_waiting(send):
        return PackStatus("scheduled", send)
    opened = (
        PackLink.objects.filter(case=case, first_opened_at__isnull=False)
        .order_by("first_opened_at")
        .values_list("first_opened_at", flat=True)
        .first()
    )
    return PackStatus("sent", send, opened)


@dataclass(frozen=True)
class LinkRow:
    link: PackLink
    state: str  # "usable" | "expired" | "revoked"
    send: PackSend | None

    @property
    def label(self) -> str:
        return {"usable": "Works", "expired": "Expired", "revoked": "Revoked"}[self.state]


@dataclass(frozen=True)
class DeliveryProblem:
    """A message of a send that did not arrive, for the panel's "could not be delivered" notice."""

    send: PackSend
    message: Any

    @property
    def channel_name(self) -> str:
        return "SMS" if self.message.channel == "sms" else "email"


@dataclass
class PackPanel:
    status: PackStatus
    versions: list[PackVersion]
    changed_since_latest: bool
    links: list[LinkRow]
    sends: list[PackSend]
    responses: list[PatientResponse]
    signatures: list[ConsentSignature]
    messages: list[Any] = field(default_factory=list)
    problems: list[DeliveryProblem] = field(default_factory=list)

    @property
    def latest_version(self) -> PackVersion | None:
        return self.versions[0] if self.versions else None

    @property
    def unseen_responses(self) -> int:
        return sum(1 for response in self.responses if response.seen_at is None)


def pack_panel(case: Case) -> PackPanel:
    """Everything the case page's "Treatment pack" panel shows, in a fixed number of queries."""
    from clearplan.messaging.selectors import messages_for_case

    versions = list(PackVersion.objects.filter(case=case).select_related("created_by").order_by("-number"))
    sends = list(
        PackSend.objects.filter(case=case).select_related("sent_by", "version", "link").order_by("-created_at", "-id")
    )
    now = timezone.now()
    last_send_by_link: dict[int, PackSend] = {}
    for send in sends:
        last_send_by_link.setdefault(send.link_id, send)
    links = []
    for link in PackLink.objects.filter(case=case).order_by("-created_at"):
        state = "revoked" if link.revoked_at else ("expired" if link.expires_at <= now else "usable")
        links.append(LinkRow(link, state, last_send_by_link.get(link.pk)))
    status = _status_from(sends, links)
    messages = list(messages_for_case(case=case))
    by_id = {message.public_id: message for message in messages}
    problems = [
        DeliveryProblem(send, by_id[message_id])
        for send in sends
        for message_id in (send.sms_message_id, send.email_message_id)
        if message_id in by_id and by_id[message_id].is_failure
    ]
    return PackPanel(
        status=status,
        versions=versions,
        changed_since_latest=bool(versions) and bool(sends) and case_changed_since(versions[0]),
        links=links,
        sends=sends,
        responses=list(PatientResponse.objects.filter(case=case).select_related("seen_by").order_by("-created_at")),
        signatures=list(ConsentSignature.objects.filter(case=case).select_related("version").order_by("-signed_at")),
        messages=messages,
        problems=problems,
    )


def _status_from(sends: list[PackSend], links: list[LinkRow]) -> PackStatus:
    live = [send for send in sends if send.status != PackSend.Status.CANCELLED]
    if not live:
        return PackStatus("not_sent")
    send = live[0]
    if is_waiting(send):
        return PackStatus("scheduled", send)
    opened = [row.link.first_opened_at for row in links if row.link.first_opened_at is not None]
    return PackStatus("sent", send, min(opened) if opened else None)
