"""Reading notifications: always one person's own, in clinics they can still open."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from clearplan.notifications.models import Notification

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, User


def _clinic_ids(clinics: Iterable[Clinic]) -> list[int]:
    return [clinic.pk for clinic in clinics]


def notifications_for(user: User, clinics: Iterable[Clinic]) -> QuerySet[Notification]:
    """The user's notifications in `clinics` (the ones they can open), newest first."""
    return (
        Notification.objects.filter(recipient=user, clinic_id__in=_clinic_ids(clinics))
        .select_related("clinic", "case__patient")
        .order_by("-created_at", "-id")
    )


def unread_count(user: User, clinics: Iterable[Clinic]) -> int:
    return Notification.objects.filter(recipient=user, clinic_id__in=_clinic_ids(clinics), read_at__isnull=True).count()


def get_notification_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> Notification:
    """The signed-in user's own notification in a clinic they can open, or 404."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as error:
        raise Http404("No such notification.") from error
    clinics = getattr(request, "available_clinics", [])
    try:
        return Notification.objects.select_related("clinic").get(
            public_id=key, recipient_id=request.user.pk, clinic_id__in=_clinic_ids(clinics)
        )
    except Notification.DoesNotExist as error:
        raise Http404("No such notification.") from error
