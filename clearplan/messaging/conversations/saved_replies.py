"""Writing a clinic's quick replies (managers only; the views check the role): add, edit, move
up or down, delete. Each write is audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.messaging.models import SavedReply

if TYPE_CHECKING:
    from clearplan.accounts.models import Clinic, User

RECORD_TYPE = "saved_reply"


def saved_reply_save(*, clinic: Clinic, by: User, reply: SavedReply) -> SavedReply:
    """Add (a new row goes to the end of the list) or update one of the clinic's quick replies."""
    adding = reply.pk is None
    with transaction.atomic():
        reply.clinic = clinic
        reply.updated_by = by
        if adding:
            last = SavedReply.objects.filter(clinic=clinic).aggregate(last=Max("position"))["last"]
            reply.position = 0 if last is None else last + 1
        reply.save()
        audit_record(
            action=AuditEvent.Action.CREATE if adding else AuditEvent.Action.UPDATE,
            actor=by,
            clinic=clinic,
            obj=reply,
            object_type=RECORD_TYPE,
            changes={"title": reply.title},
        )
    return reply


def saved_reply_move(*, clinic: Clinic, by: User, reply: SavedReply, up: bool) -> None:
    """Swap the reply with its neighbour above or below (nothing happens at either end)."""
    with transaction.atomic():
        ordered = list(SavedReply.objects.select_for_update().filter(clinic=clinic).order_by("position", "title", "id"))
        index = next((i for i, each in enumerate(ordered) if each.pk == reply.pk), None)
        if index is None:
            return
        other = index - 1 if up else index + 1
        if other < 0 or other >= len(ordered):
            return
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, each in enumerate(ordered):
            if each.position != position:
                SavedReply.objects.filter(pk=each.pk).update(position=position)
        audit_record(
            action=AuditEvent.Action.UPDATE,
            actor=by,
            clinic=clinic,
            obj=reply,
            object_type=RECORD_TYPE,
            changes={"moved": "up" if up else "down"},
        )


def saved_reply_delete(*, clinic: Clinic, by: User, reply: SavedReply) -> None:
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.SETTINGS,
            actor=by,
            clinic=clinic,
            obj=reply,
            object_type=RECORD_TYPE,
            changes={"deleted": reply.title},
        )
        SavedReply.objects.filter(pk=reply.pk, clinic=clinic).delete()
