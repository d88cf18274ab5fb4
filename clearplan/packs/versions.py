"""Freezing what the patient is shown.

`pack_version_freeze` turns the case as it is now into an immutable PackVersion: the pack as
data (the snapshot: what the PDF, the signature record and the team's history read), the page
body rendered once from the same moment (what the patient's page serves without rebuilding it),
copies of the key images' web sizes, and a SHA-256 over the snapshot and the body together.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clearplan.accounts.forms import national_phone
from clearplan.audit.models import AuditEvent
from clearplan.catalog.placeholders import render_text
from clearplan.packs.models import PackVersion, PackVersionImage
from clearplan.plans import composer, services
from clearplan.plans.models import Case, CaseImage
from clearplan.plans.templatetags.case_images import image_alt
from clearplan.plans.templatetags.plans_display import line_where, money

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import User

SNAPSHOT_SCHEMA = 1
IMAGE_SIZES = ("thumb", "medium", "large")
# Widths of the derived sizes (clearplan.lib.imaging); used for the browser's srcset choice.
IMAGE_WIDTHS = {"thumb": 320, "medium": 960, "large": 1920}


def patient_image_url(image_id: uuid.UUID, size: str) -> str:
    return reverse("packs:patient_image", args=[image_id, size])


def digest(snapshot: dict[str, Any], body_html: str) -> str:
    """SHA-256 over the snapshot (canonical JSON) and the page body, so either changing shows."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode() + b"\n" + body_html.encode()).hexdigest()


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def consent_statements_for(case: Case) -> list[str]:
    """The template's consent statements with placeholders filled in (the wording the patient ticks)."""
    values = composer.placeholder_values(case)
    raw = case.template.consent_statements if case.template is not None else None
    if not isinstance(raw, list) or not raw:
        from clearplan.catalog.models import DEFAULT_CONSENT_STATEMENTS

        raw = DEFAULT_CONSENT_STATEMENTS
    return [render_text(str(statement), values).strip() for statement in raw if str(statement).strip()]


def build_snapshot(pack: composer.PackPage, *, image_ids: dict[int, uuid.UUID], consent: list[str]) -> dict[str, Any]:
    case = pack.case
    clinic = case.clinic
    patient = case.patient
    return {
        "schema": SNAPSHOT_SCHEMA,
        "case": {
            "public_id": str(case.public_id),
            "conversation_date": case.conversation_date.isoformat(),
            "plan_type": case.get_plan_type_display(),
        },
        "clinic": {
            "public_id": str(clinic.public_id),
            "name": clinic.name,
            "phone": clinic.phone,
            "phone_display": national_phone(clinic),
            "email": clinic.email,
            "address": clinic.address,
            "brand_colour": clinic.brand_colour,
            "currency": clinic.currency,
            "locale": clinic.locale,
            "time_zone": clinic.time_zone,
        },
        "patient": {
            "first_name": pack.patient_first_name,
            "full_name": f"{patient.first_name} {patient.last_name}".strip(),
            "is_minor": patient.has_guardian,
            "guardian_name": patient.guardian_name,
        },
        "dentist_name": pack.dentist_name,
        "texts": {
            "cover_message": str(pack.cover_message),
            "what_we_found": str(pack.what_we_found),
            "your_options_intro": str(pack.your_options_intro),
            "costs_intro": str(pack.costs_intro),
            "next_steps": str(pack.next_steps),
            "aftercare": str(pack.aftercare),
        },
        "options": [
            {
                "public_id": str(item.option.public_id),
                "title": item.option.title,
                "kind": item.option.kind,
                "summary": item.option.summary,
                "is_recommended": item.option.is_recommended,
                "total": _money(item.view.totals.total),
                "total_display": money(item.view.totals.total, clinic),
                "visits": item.view.totals.visits,
                "phases": [
                    {"phase": phase.phase, "subtotal": _money(phase.subtotal), "visits": phase.visits}
                    for phase in item.view.totals.phases
                ],
                "lines": [
                    {
                        "name": line.name,
                        "explanation": line.explanation,
                        "where": line_where(line.where, clinic),
                        "phase": line.where.phase,
                        "quantity": line.quantity,
                        "amount": _money(line.amount),
                        "amount_display": money(line.amount, clinic),
                    }
                    for line in item.lines
                ],
            }
            for item in pack.options
        ],
        "images": [
            {
                "public_id": str(image_ids[item.image.pk]),
                "kind": item.image.get_kind_display(),
                "caption": item.image.caption,
                "alt": image_alt(item.image),
                "markup": item.image.markup,
                "width": item.image.width,
                "height": item.image.height,
            }
            for item in pack.images
        ],
        "questions": [{"question": item.question, "answer_html": str(item.answer)} for item in pack.questions],
        "education": [{"title": item.title, "body_html": str(item.body)} for item in pack.education],
        "consent_statements": consent,
    }


@dataclass(frozen=True)
class _ImageCopy:
    public_id: uuid.UUID
    image: CaseImage


def _copy_file(name: str) -> ContentFile[bytes]:
    with default_storage.open(name, "rb") as source:
        return ContentFile(source.read(), name=name.rsplit("/", 1)[-1])


def check_sendable(case: Case) -> None:
    """The same checks as "Ready to send", worded for sending."""
    composer.check_plan_complete(case, before="before sending the pack")


def pack_version_freeze(*, case: Case, by: User, request: HttpRequest | None = None) -> PackVersion:
    """A new immutable version of the case's pack, numbered after the last one."""
    with transaction.atomic():
        current = services._locked_case(case)
        check_sendable(current)
        copies = {image.pk: _ImageCopy(uuid.uuid4(), image) for image in composer.key_images(current)}

        def url(image: CaseImage) -> str:
            return patient_image_url(copies[image.pk].public_id, "medium")

        def srcset(image: CaseImage) -> str:
            return ", ".join(
                f"{patient_image_url(copies[image.pk].public_id, size)} {IMAGE_WIDTHS[size]}w" for size in IMAGE_SIZES
            )

        pack = composer.build_pack_page(
            current,
            image_url=url,
            image_srcset=srcset,
            logo_url=reverse("packs:patient_logo", args=[current.clinic.public_id]),
        )
        snapshot = build_snapshot(
            pack, image_ids={pk: copy.public_id for pk, copy in copies.items()}, consent=consent_statements_for(current)
        )
        snapshot["frozen_at"] = timezone.now().isoformat()
        body_html = render_to_string("pack/_pack_body.html", {"pack": pack, "patient_view": True})
        last = PackVersion.objects.filter(case=current).aggregate(last=Max("number"))["last"] or 0
        version = PackVersion.objects.create(
            case=current,
            number=last + 1,
            snapshot=snapshot,
            body_html=body_html,
            sha256=digest(snapshot, body_html),
            created_by=by,
        )
        for position, copy in enumerate(copies.values()):
            image = copy.image
            files = {size: getattr(image, size).name for size in IMAGE_SIZES}
            frozen = PackVersionImage(
                version=version,
                public_id=copy.public_id,
                source=image,
                position=position,
                width=image.width,
                height=image.height,
            )
            for size in IMAGE_SIZES:
                # A size that was never derived (a very small picture) falls back to the next one present.
                name = files[size] or files["medium"] or files["large"] or files["thumb"]
                getattr(frozen, size).save(name.rsplit("/", 1)[-1], _copy_file(name), save=False)
            frozen.save()
        services._audit(
            action=AuditEvent.Action.CREATE,
            case=current,
            by=by,
            request=request,
            changes={"pack_version": [None, version.number], "sha256": [None, version.sha256]},
        )
    return version


def latest_version(case: Case) -> PackVersion | None:
    return PackVersion.objects.filter(case=case).order_by("-number").first()


def case_changed_since(version: PackVersion) -> bool:
    """Whether the pack built from the case now would differ from `version` (ignoring when it was frozen)."""
    case = version.case
    try:
        check_sendable(case)
    except ValidationError:
        return True
    images = composer.key_images(case)
    frozen_images = list(version.images.all())
    if [image.pk for image in images] != [image.source_id for image in frozen_images]:
        return True
    ids = {image.pk: frozen.public_id for image, frozen in zip(images, frozen_images, strict=True)}
    pack = composer.build_pack_page(case, image_url=lambda image: "", logo_url="")
    fresh = build_snapshot(pack, image_ids=ids, consent=consent_statements_for(case))
    frozen_snapshot = {key: value for key, value in version.snapshot.items() if key != "frozen_at"}
    return fresh != frozen_snapshot
