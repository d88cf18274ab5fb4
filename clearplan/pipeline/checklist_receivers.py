"""Checklist steps Clearplan ticks when something is saved, however it was saved (from the case
page, an import or the demo): the first image, the case marked ready to send, and an
appointment booked or cancelled. Sending and signing tick their steps through events.py."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from clearplan.pipeline import checklist
from clearplan.pipeline.models import Booking
from clearplan.plans.models import Case, CaseImage


@receiver(post_save, sender=CaseImage, dispatch_uid="checklist_image_added")
def image_added(sender: type[CaseImage], instance: CaseImage, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        checklist.step_done_automatically_for(case_id=instance.case_id, key=checklist.IMAGES)


@receiver(post_save, sender=Case, dispatch_uid="checklist_case_ready")
def case_ready(sender: type[Case], instance: Case, created: bool, raw: bool = False, **kwargs: Any) -> None:
    # A new case's checklist is made (with this step done if it applies) by signals.case_created.
    if not created and not raw and instance.ready_at is not None:
        checklist.step_done_automatically_for(case_id=instance.pk, key=checklist.PLAN_READY)


@receiver(post_save, sender=Booking, dispatch_uid="checklist_booking_changed")
def booking_changed(sender: type[Booking], instance: Booking, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    if instance.status == Booking.Status.BOOKED:
        checklist.step_done_automatically_for(case_id=instance.case_id, key=checklist.SCHEDULE_TREATMENT)
    elif not Booking.objects.filter(case_id=instance.case_id, status=Booking.Status.BOOKED).exists():
        checklist.step_reopened_automatically_for(case_id=instance.case_id, key=checklist.SCHEDULE_TREATMENT)
