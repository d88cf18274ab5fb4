"""Reading case images, always scoped to the clinic the signed-in staff member is working in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from clearplan.plans.models import Case, CaseImage
from clearplan.plans.selectors import get_case_for_user

if TYPE_CHECKING:
    import uuid

    from django.http import HttpRequest


def case_for_staff(request: HttpRequest, public_id: uuid.UUID) -> Case:
    """The case, if it belongs to the clinic the user is working in; otherwise 404."""
    return get_case_for_user(request, public_id)


def image_for_staff(request: HttpRequest, public_id: uuid.UUID) -> CaseImage:
    """The image, if its case belongs to the clinic the user is working in; otherwise 404."""
    return get_object_or_404(
        CaseImage.objects.select_related("case", "case__patient", "case__clinic"),
        public_id=public_id,
        case__clinic=getattr(request, "clinic", None),
    )


def images_of(case: Case) -> QuerySet[CaseImage]:
    """Key images first in their pack order, then the rest in upload order."""
    return CaseImage.objects.filter(case=case).order_by("-is_key", "key_order", "uploaded_at", "pk")


def key_images_of(case: Case) -> QuerySet[CaseImage]:
    return CaseImage.objects.filter(case=case, is_key=True).order_by("key_order", "pk")
