"""Reading the audit log: which events a manager may see, and the filters on them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from clearplan.accounts.models import Clinic, Membership, User
from clearplan.audit.models import AuditEvent

if TYPE_CHECKING:
    import zoneinfo

# Readable names for the record types services write; anything else is shown from its code name.
# These are also the audit log's "Record type" choices, so a service that writes a new type adds it here.
RECORD_TYPE_LABELS = {
    "patient": "Patient",
    "patient_list": "Patient list",
    "user": "Staff member",
    "membership": "Staff role",
    "clinic": "Clinic",
    "organisation": "Organisation",
    "audit_log": "Audit log",
    "invitation": "Invitation",
    "outbox_email": "Email in the outbox",
    "case_image": "Case image",
    "case": "Treatment case",
    "procedure": "Procedure",
    "fee_schedule": "Fee schedule",
    "pack_template": "Pack template",
    "education_item": "Education item",
    "outbound_message": "Message to a patient",
    "outbox_sms": "Text message in the outbox",
    "pipeline_board": "Pipeline board",
    "pipeline_list": "Pipeline list",
    "today": "Today",
    "workflow_steps": "Planning checklist",
    "follow_up_rules": "Follow-up rules",
    "conversation": "Conversation",
    "conversation_message": "Message in a conversation",
    "conversation_attachment": "File in a conversation",
    "conversation_inbox": "Conversations inbox",
    "saved_reply": "Saved reply",
    "contact_consent": "Contact consent",
}

# Calm colours: routine reading is neutral, changes are brand, refusals are red.
ACTION_BADGES = {
    AuditEvent.Action.VIEW: "",
    AuditEvent.Action.CREATE: "badge--success",
    AuditEvent.Action.UPDATE: "badge--brand",
    AuditEvent.Action.EXPORT: "badge--warning",
    AuditEvent.Action.SIGN_IN: "badge--info",
    AuditEvent.Action.SIGN_IN_FAILED: "badge--danger",
    AuditEvent.Action.SIGN_OUT: "",
    AuditEvent.Action.LOCKED_OUT: "badge--danger",
    AuditEvent.Action.INVITE: "badge--info",
    AuditEvent.Action.PERMISSION: "badge--warning",
    AuditEvent.Action.SETTINGS: "badge--warning",
}


def record_type_label(object_type: str) -> str:
    if not object_type:
        return ""
    return RECORD_TYPE_LABELS.get(object_type, object_type.replace("_", " ").capitalize())


@dataclass(frozen=True)
class AuditScope:
    """The clinics whose events a user may read, and whether several are in view."""

    clinics: list[Clinic]
    organisation_id: int
    whole_organisation: bool

    @property
    def spans_clinics(self) -> bool:
        return self.whole_organisation and len(self.clinics) > 1


def audit_scope_for(user: User, active_clinic: Clinic, available_clinics: list[Clinic]) -> AuditScope:
    """Organisation admins read the whole organisation's log; managers read their active clinic's."""
    if user.is_organisation_admin and user.organisation_id == active_clinic.organisation_id:
        clinics = [clinic for clinic in available_clinics if clinic.organisation_id == user.organisation_id]
        return AuditScope(clinics=clinics, organisation_id=active_clinic.organisation_id, whole_organisation=True)
    return AuditScope(clinics=[active_clinic], organisation_id=active_clinic.organisation_id, whole_organisation=False)


def audit_events_in_scope(scope: AuditScope) -> QuerySet[AuditEvent]:
    if scope.whole_organisation:
        # Includes events with no clinic (such as signing in), which belong to the organisation.
        return AuditEvent.objects.filter(organisation_id=scope.organisation_id)
    # Signing in and out happens before a clinic is chosen; a manager sees those of their own team.
    works_here = Membership.objects.filter(user=OuterRef("actor"), clinic__in=scope.clinics)
    return AuditEvent.objects.filter(
        Q(clinic__in=scope.clinics) | Q(Exists(works_here), clinic__isnull=True, organisation_id=scope.organisation_id)
    )


def staff_in_scope(scope: AuditScope) -> QuerySet[User]:
    """Everyone who works in the clinics now, and anyone who has left but still has entries there:
    a manager reviewing a former colleague's access must be able to pick them."""
    acted_here = AuditEvent.objects.filter(actor=OuterRef("pk"), clinic__in=scope.clinics)
    return (
        User.objects.filter(organisation_id=scope.organisation_id)
        .filter(Q(memberships__clinic__in=scope.clinics) | Q(is_organisation_admin=True) | Q(Exists(acted_here)))
        .distinct()
        .order_by("first_name", "last_name", "email")
    )


def record_type_choices() -> list[tuple[str, str]]:
    """The record types the log can be filtered by, from the known labels rather than a scan of
    the whole table on every page."""
    return sorted(RECORD_TYPE_LABELS.items(), key=lambda item: item[1])


def filter_audit_events(
    events: QuerySet[AuditEvent],
    *,
    zone: zoneinfo.ZoneInfo,
    clinic: Clinic | None = None,
    staff: User | None = None,
    action: str = "",
    record_type: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    search: str = "",
) -> QuerySet[AuditEvent]:
    """Dates are whole days in `zone` (the clinic's), turned into UTC bounds for the index on `at`."""
    if clinic is not None:
        events = events.filter(clinic=clinic)
    if staff is not None:
        events = events.filter(actor=staff)
    if action:
        events = events.filter(action=action)
    if record_type:
        events = events.filter(object_type=record_type)
    if date_from is not None:
        events = events.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=zone))
    if date_to is not None:
        events = events.filter(at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
    search = search.strip()
    if search:
        events = events.filter(object_label__icontains=search)
    return events.order_by("-at", "-id")
