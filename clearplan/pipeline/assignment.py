"""Handing cases over: one case or many move to another treatment coordinator of the clinic
(when someone is away, or the work is shared out again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clearplan.accounts.models import Membership
from clearplan.pipeline.models import CaseTask
from clearplan.pipeline.stages import audit_case_change
from clearplan.plans.models import Case

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.http import HttpRequest

    from clearplan.accounts.models import User


def cases_reassign(*, cases: Sequence[Case], to: User, by: User, request: HttpRequest | None = None) -> int:
    """Make `to` the treatment coordinator of each of `cases` (all of one clinic, where `to`
    must work). The case's open tasks that were the previous coordinator's go with it. Each case
    changed is audited; a case already with `to` is left as it is. Returns how many changed.
    Raises ValidationError ("cases", "to") with nothing saved when the request does not make sense."""
    if not cases:
        raise ValidationError({"cases": "Tick the cases to reassign."})
    clinic_ids = {case.clinic_id for case in cases}
    if len(clinic_ids) != 1:
        raise ValidationError({"cases": "Reassign the cases of one clinic at a time."})
    clinic_id = clinic_ids.pop()
    if not to.is_active or not Membership.objects.filter(user=to, clinic_id=clinic_id).exists():
        raise ValidationError({"to": "Choose someone who works at this clinic."})
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        locked = list(
            Case.objects.select_for_update(of=("self",))
            .select_related("clinic", "coordinator", "patient")
            .filter(pk__in=[case.pk for case in cases])
            .order_by("pk")
        )
        for case in locked:
            previous = case.coordinator
            if previous is not None and previous.pk == to.pk:
                continue
            # `updated_at` moves too, so an edit form opened before the handover cannot silently undo it.
            Case.objects.filter(pk=case.pk).update(coordinator=to, updated_at=now)
            if previous is not None:
                CaseTask.objects.filter(case=case, done_at__isnull=True, assigned_to=previous).update(assigned_to=to)
            audit_case_change(
                case=case,
                changes={"coordinator": [previous.display_name if previous else None, to.display_name]},
                by=by,
                request=request,
            )
            changed += 1
    return changed
