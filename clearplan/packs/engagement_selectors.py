"""What the team can see of how the patient has read their pack.

`case_engagement` sums the visits up (first and last opened, how many times, how long, which
sections, on what); `case_timeline` tells the case's pack story in order (frozen, sent, opened,
replied, signed, and anything that went wrong). Both read a fixed number of queries however many
visits there are, and give times in the clinic's time zone with labels ready to show.
`engagement_context(case)` gives both for the `packs/staff/_engagement.html` partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.utils import timezone

from clearplan.lib.clinic_time import clinic_zone
from clearplan.packs.models import (
    ConsentSignature,
    DeviceType,
    PackLink,
    PackSend,
    PackVersion,
    PackVisit,
    PatientResponse,
    Recipient,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from clearplan.accounts.models import Clinic
    from clearplan.plans.models import Case

# The pack page's sections (data-pack-section in templates/pack/_pack_body.html and the reply
# area), in the order the page shows them, with the names staff know them by.
SECTION_LABELS: dict[str, str] = {
    "cover": "Cover",
    "images": "Your images",
    "what-we-found": "What we found",
    "options": "Your options",
    "costs": "Costs",
    "insurance-and-payment": "Insurance and payment",
    "next-steps": "Next steps",
    "about-your-treatment": "About your treatment",
    "questions": "Questions",
    "aftercare": "Aftercare",
    "actions": "Replies",
    "contact": "Contact",
}

DEVICE_WORDS = {
    DeviceType.PHONE: "a phone",
    DeviceType.TABLET: "a tablet",
    DeviceType.COMPUTER: "a computer",
}

STATUS_LABELS = {
    "not_sent": "Not sent yet",
    "sent_not_viewed": "Not viewed yet",
    "viewed": "Viewed",
}


# ---------- Words for times, durations and devices ----------


def when_label(value: datetime, zone: ZoneInfo, *, now: datetime | None = None) -> str:
    """ "12 Mar, 7:41 pm" in the clinic's zone; with the year when it is not this year there."""
    local = value.astimezone(zone)
    this_year = (now or timezone.now()).astimezone(zone).year
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"
    day = f"{local.day} {local:%b}" if local.year == this_year else f"{local.day} {local:%b} {local.year}"
    return f"{day}, {clock}"


def duration_label(seconds: int) -> str:
    """6 min 20 s, 45 s, 1 h 5 min."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def devices_label(devices: frozenset[str]) -> str:
    """ "on a phone", "on a phone and a computer"; empty when the device is not known."""
    words = [DEVICE_WORDS[device] for device in DEVICE_WORDS if device in devices]
    if not words:
        return ""
    if len(words) == 1:
        return f"on {words[0]}"
    return "on " + ", ".join(words[:-1]) + f" and {words[-1]}"


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


# ---------- The summary ----------


@dataclass(frozen=True)
class SectionSeen:
    key: str
    label: str


@dataclass(frozen=True)
class CaseEngagement:
    status: str  # "not_sent" | "sent_not_viewed" | "viewed"
    first_opened_at: datetime | None  # in the clinic's time zone
    last_opened_at: datetime | None
    visits: int
    total_seconds_viewed: int
    sections_viewed: list[SectionSeen]
    devices: frozenset[str]
    # Visits whose time was not measured (the page's script did not run): opened, time unknown.
    visits_without_script: int
    time_zone: ZoneInfo

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def viewed(self) -> bool:
        return self.status == "viewed"

    @property
    def visits_label(self) -> str:
        return f"Viewed {_times(self.visits)}"

    @property
    def time_viewed_label(self) -> str:
        return f"{duration_label(self.total_seconds_viewed)} in all"

    @property
    def first_opened_label(self) -> str:
        return when_label(self.first_opened_at, self.time_zone) if self.first_opened_at else ""

    @property
    def last_opened_label(self) -> str:
        return when_label(self.last_opened_at, self.time_zone) if self.last_opened_at else ""

    @property
    def devices_label(self) -> str:
        return devices_label(self.devices)

    @property
    def summary_parts(self) -> list[str]:
        """The summary line's pieces: Viewed 3 times · 6 min 20 s in all · first 12 Mar, 7:41 pm · …"""
        if not self.viewed:
            return [self.status_label]
        parts = [self.visits_label]
        if self.visits_without_script < self.visits:
            parts.append(self.time_viewed_label)
        parts.append(f"first {self.first_opened_label}")
        if self.visits > 1:
            parts.append(f"last {self.last_opened_label}")
        if self.devices_label:
            parts.append(self.devices_label)
        return parts


# ---------- The timeline ----------


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime  # in the clinic's time zone
    what: str
    who: str = ""
    # For styling and tests: frozen, sent, scheduled, cancelled, revoked, opened, question, proceed,
    # not_now, signed, delivery_failed.
    kind: str = ""
    detail: str = ""
    when_label: str = ""


@dataclass
class _Facts:
    """Everything both reads need, fetched once."""

    clinic: Clinic
    zone: ZoneInfo
    now: datetime
    versions: Sequence[PackVersion]
    sends: Sequence[PackSend]
    revoked_links: Sequence[PackLink]
    visits: Sequence[PackVisit]
    responses: Sequence[PatientResponse]
    signatures: Sequence[ConsentSignature]
    failures: Sequence[Any] = field(default_factory=list)


def _facts(case: Case) -> _Facts:
    clinic = case.clinic
    now = timezone.now()
    # The frozen page and snapshot are large and not needed here.
    versions = list(PackVersion.objects.filter(case=case).defer("snapshot", "body_html").select_related("created_by"))
    sends = list(PackSend.objects.filter(case=case).select_related("sent_by").order_by("created_at", "id"))
    revoked = list(
        PackLink.objects.filter(case=case, revoked_at__isnull=False).select_related("revoked_by").order_by("revoked_at")
    )
    visits = list(
        PackVisit.objects.filter(case=case)
        .annotate(recipient=F("link__recipient"))
        .only("started_at", "seconds_viewed", "sections", "device_type", "measured_by_script", "link_id")
        .order_by("started_at", "id")
    )
    responses = list(PatientResponse.objects.filter(case=case).order_by("created_at", "id"))
    signatures = list(
        ConsentSignature.objects.filter(case=case)
        .annotate(version_number=F("version__number"))
        .defer("drawn_signature", "consent_statements")
        .order_by("signed_at", "id")
    )
    return _Facts(
        clinic=clinic,
        zone=clinic_zone(clinic),
        now=now,
        versions=versions,
        sends=sends,
        revoked_links=revoked,
        visits=visits,
        responses=responses,
        signatures=signatures,
        failures=_delivery_failures(case),
    )


def _delivery_failures(case: Case) -> list[Any]:
    from clearplan.messaging.models import OutboundMessage

    return list(
        OutboundMessage.objects.filter(
            case=case, status__in=[OutboundMessage.Status.FAILED, OutboundMessage.Status.BOUNCED]
        )
        .only("channel", "to_address", "status", "failure_kind", "failed_at", "created_at", "purpose")
        .order_by("created_at", "id")
    )


def _has_gone(send: PackSend, now: datetime) -> bool:
    """Sent, or scheduled for a time that has passed."""
    return send.status == PackSend.Status.SENT or (send.status == PackSend.Status.SCHEDULED and send.send_at <= now)


def _engagement(facts: _Facts) -> CaseEngagement:
    visits = facts.visits
    seen: set[str] = set()
    for visit in visits:
        seen.update(name for name in visit.sections if isinstance(name, str))
    if visits:
        status = "viewed"
    elif any(_has_gone(send, facts.now) for send in facts.sends):
        status = "sent_not_viewed"
    else:
        status = "not_sent"
    return CaseEngagement(
        status=status,
        first_opened_at=min(v.started_at for v in visits).astimezone(facts.zone) if visits else None,
        last_opened_at=max(v.started_at for v in visits).astimezone(facts.zone) if visits else None,
        visits=len(visits),
        total_seconds_viewed=sum(v.seconds_viewed for v in visits),
        sections_viewed=[SectionSeen(key, label) for key, label in SECTION_LABELS.items() if key in seen],
        devices=frozenset(v.device_type for v in visits if v.device_type != DeviceType.UNKNOWN),
        visits_without_script=sum(1 for v in visits if not v.measured_by_script),
        time_zone=facts.zone,
    )


def _channels(send: PackSend) -> str:
    return " and ".join(name for name, used in (("SMS", send.by_sms), ("email", send.by_email)) if used)


def _name(user: Any) -> str:
    return user.display_name if user is not None else ""


def _to_whom(recipient: str) -> str:
    return " to the parent or guardian" if recipient == Recipient.GUARDIAN else ""


def _timeline(facts: _Facts) -> list[TimelineEntry]:
    rows: list[tuple[datetime, int, str, str, str, str]] = []  # when, order, kind, what, who, detail
    order = 0

    def add(when: datetime, kind: str, what: str, who: str = "", detail: str = "") -> None:
        nonlocal order
        order += 1
        rows.append((when, order, kind, what, who, detail))

    for version in facts.versions:
        add(version.created_at, "frozen", f"Version {version.number} of the pack frozen", _name(version.created_by))
    for send in facts.sends:
        channels = _channels(send)
        who = _name(send.sent_by)
        to = _to_whom(send.recipient)
        if send.status == PackSend.Status.CANCELLED:
            add(send.created_at, "cancelled", f"Scheduled {channels}{to} cancelled before it went", who)
        elif send.status == PackSend.Status.SCHEDULED and send.send_at > facts.now:
            going = when_label(send.send_at, facts.zone, now=facts.now)
            add(send.created_at, "scheduled", f"Pack scheduled to go by {channels}{to} at {going}", who)
        else:
            add(send.send_at, "sent", f"Pack sent by {channels}{to}", who)
    for link in facts.revoked_links:
        add(
            link.revoked_at or link.created_at,
            "revoked",
            f"Pack link{_to_whom(link.recipient)} revoked",
            _name(link.revoked_by),
        )
    for visit in facts.visits:
        device = DEVICE_WORDS.get(visit.device_type)  # type: ignore[call-overload]
        what = f"Opened on {device}" if device else "Opened"
        if visit.measured_by_script:
            detail = f"Read for {duration_label(visit.seconds_viewed)}"
        else:
            detail = "Time not measured (scripts were off)"
        who = Recipient(visit.recipient).label  # type: ignore[attr-defined]
        add(visit.started_at, "opened", what, who, detail)
    for response in facts.responses:
        who = Recipient(response.responder).label
        if response.kind == PatientResponse.Kind.PROCEED:
            what = f"Asked to proceed with {response.option_title}" if response.option_title else "Asked to proceed"
            detail = f"Preferred times: {response.preferred_times}" if response.preferred_times else ""
        elif response.kind == PatientResponse.Kind.QUESTION:
            what, detail = "Asked a question", ""
        else:
            what = "Said “not right now”"
            detail = f"Reason: {response.get_reason_display()}" if response.reason else ""
        add(response.created_at, response.kind, what, who, detail)
    for signature in facts.signatures:
        relationship = signature.get_relationship_display().lower()
        number = signature.version_number  # type: ignore[attr-defined]
        what = f"Signed the consent for version {number}"
        if signature.option_title:
            what += f" ({signature.option_title})"
        add(signature.signed_at, "signed", what, f"{signature.signer_name}, {relationship}")
    for message in facts.failures:
        outcome = "bounced" if message.status == "bounced" else "was not delivered"
        channel = "SMS" if message.channel == "sms" else "Email"
        add(
            message.failed_at or message.created_at,
            "delivery_failed",
            f"{channel} to {message.masked_to} {outcome}",
            detail=message.failure_next_step,
        )

    rows.sort(key=lambda row: (row[0], row[1]))
    return [
        TimelineEntry(
            when=when.astimezone(facts.zone),
            what=what,
            who=who,
            kind=kind,
            detail=detail,
            when_label=when_label(when, facts.zone, now=facts.now),
        )
        for when, _order, kind, what, who, detail in rows
    ]


# ---------- The three public reads ----------


def case_engagement(case: Case) -> CaseEngagement:
    """How the patient has read the pack of `case`, summed up."""
    return _engagement(_facts(case))


def case_timeline(case: Case) -> list[TimelineEntry]:
    """The pack's story on `case`, oldest first."""
    return _timeline(_facts(case))


def engagement_context(case: Case) -> dict[str, Any]:
    """Context for `packs/staff/_engagement.html`: `engagement` and `clinic`. The pack's story is told
    in the case's whole timeline (clearplan/pipeline/timeline.py, which reads `case_timeline`)."""
    facts = _facts(case)
    return {"engagement": _engagement(facts), "clinic": facts.clinic}


__all__ = [
    "SECTION_LABELS",
    "CaseEngagement",
    "SectionSeen",
    "TimelineEntry",
    "case_engagement",
    "case_timeline",
    "duration_label",
    "engagement_context",
    "when_label",
]
