"""Every case starts in the pipeline the moment it exists, however it was made (built in
Clearplan, imported from the practice-management system, or loaded as demo data): a
receiver on the case's first save is the one place that cannot be bypassed."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from clearplan.plans.models import Case


@receiver(post_save, sender=Case, dispatch_uid="pipeline_case_created")
def case_created(sender: type[Case], instance: Case, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not created or raw:
        return
    from clearplan.pipeline.checklist import tasks_create_for
    from clearplan.pipeline.models import CaseProgress

    CaseProgress.objects.get_or_create(case=instance, defaults={"clinic_id": instance.clinic_id})
    tasks_create_for(case=instance)
