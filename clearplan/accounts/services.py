"""Every change to organisations, clinics, staff and invitations. Each function runs in
one transaction and leaves an audit row; emails go out only once the change is saved."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clearplan.accounts.models import Clinic, Invitation, Membership, Organisation, User
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.lib.clinic_time import clinic_zone

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.logos import PreparedLogo

Role = Membership.Role


# ---------- Invitations ----------


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, invitation_token_hash(token)


def _send_invitation_email(*, invitation: Invitation, token: str) -> None:
    from clearplan.messaging.services import email_send_later

    clinic = invitation.clinic
    context = {
        "invitation": invitation,
        "clinic": clinic,
        "organisation": clinic.organisation,
        "invited_by": invitation.invited_by.display_name,
        "role": invitation.get_role_display(),
        "accept_url": settings.SITE_URL + reverse("join:open", kwargs={"token": token}),
        "expires_at": invitation.expires_at.astimezone(clinic_zone(clinic)),
    }
    subject = " ".join(render_to_string("accounts/email/invitation_subject.txt", context).split())
    email_send_later(
        to=[invitation.email],
        subject=subject,
        text=render_to_string("accounts/email/invitation_message.txt", context),
        html=render_to_string("accounts/email/invitation_message.html", context),
    )


def _invitation_audit(*, invitation: Invitation, request: HttpRequest | None, by: User | None, event: str) -> None:
    audit_record(
        action=AuditEvent.Action.INVITE,
        request=request,
        actor=by,
        clinic=invitation.clinic,
        obj=invitation,
        changes={
            "event": event,
            "email": invitation.email,
            "role": invitation.role,
            "clinical_role": invitation.clinical_role,
        },
    )


# One answer for every address that belongs outside this organisation, whatever the
# reason, so the invite form cannot be used to learn who works at other practices.
CANNOT_INVITE_MESSAGE = "This address can't be invited. Ask the person for another email address, or contact support."


def _held_outside(account: User, organisation_id: int) -> bool:
    """The address is taken by an account this organisation cannot take over: one in another
    organisation, or an active account that belongs to no organisation."""
    if account.organisation_id is None:
        return account.is_active
    return account.organisation_id != organisation_id


def invitation_create(
    *,
    clinic: Clinic,
    by: User,
    email: str,
    role: str,
    clinical_role: str = "",
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite someone by email to work at `clinic` in `role`, and send them the link."""
    email = User.objects.normalize_email(email).strip().lower()
    if role != Role.PRACTITIONER:
        clinical_role = ""
    elif not clinical_role:
        raise ValidationError({"clinical_role": "Choose the practitioner's clinical role."})
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if _held_outside(existing, clinic.organisation_id):
            raise ValidationError({"email": CANNOT_INVITE_MESSAGE})
        if existing.is_active and existing.memberships.filter(clinic=clinic).exists():
            raise ValidationError({"email": f"{existing.display_name} already works at {clinic.name}."})
    now = timezone.now()
    with transaction.atomic():
        open_invitation = Invitation.objects.pending().filter(clinic=clinic, email__iexact=email).first()
        if open_invitation is not None:
            if open_invitation.status_at(now) == Invitation.Status.PENDING:
                raise ValidationError(
                    {"email": "This person already has an invitation waiting. You can resend it from the team page."}
                )
            # An expired invitation makes way for the new one.
            open_invitation.revoked_at = now
            open_invitation.save(update_fields=["revoked_at"])
        token, token_hash = _new_token()
        invitation = Invitation.objects.create(
            email=email,
            clinic=clinic,
            role=role,
            clinical_role=clinical_role,
            invited_by=by,
            token_hash=token_hash,
            sent_at=now,
            expires_at=now + timedelta(days=Invitation.VALID_FOR_DAYS),
        )
        _invitation_audit(invitation=invitation, request=request, by=by, event="sent")
        _send_invitation_email(invitation=invitation, token=token)
    return invitation


def _require_open(invitation: Invitation, doing: str) -> None:
    if invitation.accepted_at is not None:
        raise ValidationError(f"This invitation was accepted already, so it can't be {doing}.")
    if invitation.revoked_at is not None:
        raise ValidationError(f"This invitation was withdrawn, so it can't be {doing}.")


def invitation_resend(*, invitation: Invitation, by: User, request: HttpRequest | None = None) -> Invitation:
    """Send a fresh link, valid for another week; the old link stops working."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        _require_open(invitation, "resent")
        now = timezone.now()
        token, invitation.token_hash = _new_token()
        invitation.sent_at = now
        invitation.expires_at = now + timedelta(days=Invitation.VALID_FOR_DAYS)
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        _invitation_audit(invitation=invitation, request=request, by=by, event="resent")
        _send_invitation_email(invitation=invitation, token=token)
    return invitation


def invitation_revoke(*, invitation: Invitation, by: User, request: HttpRequest | None = None) -> Invitation:
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        _require_open(invitation, "withdrawn")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        _invitation_audit(invitation=invitation, request=request, by=by, event="withdrawn")
    return invitation


def invitation_existing_account(invitation: Invitation) -> User | None:
    """An active account in the same organisation that already uses the invited address."""
    return User.objects.filter(
        email__iexact=invitation.email, organisation_id=invitation.clinic.organisation_id, is_active=True
    ).first()


def _lock_for_acceptance(invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().select_related("clinic").get(pk=invitation.pk)
    if invitation.status_at(timezone.now()) != Invitation.Status.PENDING:
        raise ValidationError("This invitation can no longer be accepted.")
    return invitation


def _accept(*, invitation: Invitation, user: User, request: HttpRequest | None) -> None:
    Membership.objects.update_or_create(
        user=user,
        clinic=invitation.clinic,
        defaults={"role": invitation.role, "clinical_role": invitation.clinical_role},
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _invitation_audit(invitation=invitation, request=request, by=user, event="accepted")


def invitation_accept_new_account(
    *,
    invitation: Invitation,
    first_name: str,
    last_name: str,
    password: str,
    request: HttpRequest | None = None,
) -> User:
    """Create the staff account (or bring back a removed one) with the name and password chosen."""
    with transaction.atomic():
        invitation = _lock_for_acceptance(invitation)
        organisation = invitation.clinic.organisation
        user = User.objects.select_for_update().filter(email__iexact=invitation.email).first()
        if user is not None and (user.is_active or user.organisation_id not in (None, organisation.pk)):
            raise ValidationError("An account with this email address exists already. Sign in to accept.")
        if user is None:
            user = User(email=invitation.email)
        user.first_name = first_name
        user.last_name = last_name
        user.organisation = organisation
        user.is_active = True
        user.set_password(password)
        user.save()
        audit_record(
            action=AuditEvent.Action.CREATE,
            request=request,
            actor=user,
            clinic=invitation.clinic,
            obj=user,
            changes={"email": user.email, "from_invitation": str(invitation.public_id)},
        )
        _accept(invitation=invitation, user=user, request=request)
    return user


def invitation_accept_existing_account(
    *, invitation: Invitation, user: User, request: HttpRequest | None = None
) -> Membership:
    """Someone who already works elsewhere in the organisation joins this clinic too."""
    with transaction.atomic():
        invitation = _lock_for_acceptance(invitation)
        if user.email.lower() != invitation.email.lower() or user.organisation_id != invitation.clinic.organisation_id:
            raise ValidationError("This invitation was sent to a different email address.")
        _accept(invitation=invitation, user=user, request=request)
    return Membership.objects.get(user=user, clinic=invitation.clinic)


# ---------- Team ----------


def _lock_clinic_team(clinic_id: int) -> None:
    """Changes to one clinic's managers run one at a time, so two managers stepping down
    together cannot each count the other and leave the clinic with none."""
    Clinic.objects.select_for_update().get(pk=clinic_id)


def _other_managers(membership: Membership) -> int:
    return (
        Membership.objects.filter(clinic_id=membership.clinic_id, role=Role.MANAGER).exclude(pk=membership.pk).count()
    )


def _last_manager_error(clinic: Clinic) -> ValidationError:
    return ValidationError(
        f"{clinic.name} needs at least one owner or manager. Make someone else a manager first.",
        code="last_manager",
    )


def membership_change_role(
    *, membership: Membership, by: User, role: str, clinical_role: str = "", request: HttpRequest | None = None
) -> Membership:
    if role != Role.PRACTITIONER:
        clinical_role = ""
    elif not clinical_role:
        raise ValidationError({"clinical_role": "Choose the practitioner's clinical role."})
    with transaction.atomic():
        _lock_clinic_team(membership.clinic_id)
        membership = Membership.objects.select_for_update().select_related("clinic", "user").get(pk=membership.pk)
        if membership.role == Role.MANAGER and role != Role.MANAGER and _other_managers(membership) == 0:
            raise _last_manager_error(membership.clinic)
        before = {"role": membership.role, "clinical_role": membership.clinical_role}
        membership.role = role
        membership.clinical_role = clinical_role
        membership.save(update_fields=["role", "clinical_role"])
        changes = changes_between(before, {"role": role, "clinical_role": clinical_role})
        if changes:
            audit_record(
                action=AuditEvent.Action.PERMISSION,
                request=request,
                actor=by,
                clinic=membership.clinic,
                obj=membership.user,
                changes=changes,
            )
    return membership


def membership_remove(*, membership: Membership, by: User, request: HttpRequest | None = None) -> None:
    """Take someone off this clinic. Someone left with no clinic at all can no longer sign in."""
    with transaction.atomic():
        _lock_clinic_team(membership.clinic_id)
        membership = Membership.objects.select_for_update().select_related("clinic", "user").get(pk=membership.pk)
        if membership.role == Role.MANAGER and _other_managers(membership) == 0:
            raise _last_manager_error(membership.clinic)
        user = membership.user
        membership.delete()
        deactivated = False
        if not user.is_organisation_admin and not user.memberships.exists():
            user.is_active = False
            user.save(update_fields=["is_active"])
            deactivated = True
        audit_record(
            action=AuditEvent.Action.PERMISSION,
            request=request,
            actor=by,
            clinic=membership.clinic,
            obj=user,
            changes={"role": [membership.role, None], "account_deactivated": deactivated},
        )


# ---------- Organisation and clinics ----------


def organisation_update(
    *, organisation: Organisation, by: User, name: str, require_two_factor: bool, request: HttpRequest | None = None
) -> Organisation:
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = {"name": organisation.name, "require_two_factor": organisation.require_two_factor}
        organisation.name = name
        organisation.require_two_factor = require_two_factor
        organisation.full_clean()
        organisation.save(update_fields=["name", "require_two_factor"])
        changes = changes_between(before, {"name": name, "require_two_factor": require_two_factor})
        if changes:
            audit_record(
                action=AuditEvent.Action.SETTINGS, request=request, actor=by, obj=organisation, changes=changes
            )
    return organisation


def organisation_set_two_factor_requirement(
    *, organisation: Organisation, by: User, required: bool, request: HttpRequest | None = None
) -> Organisation:
    return organisation_update(
        organisation=organisation, by=by, name=organisation.name, require_two_factor=required, request=request
    )


CLINIC_PROFILE_FIELDS = ("name", "address", "phone", "email", "time_zone", "locale", "currency", "tooth_numbering")
# How a patient's pack link is opened: set on the clinic profile, not when a clinic is first made.
CLINIC_PACK_FIELDS = ("pack_verification", "pack_link_days")


def _clinic_values(clinic: Clinic) -> dict[str, Any]:
    return {field: getattr(clinic, field) for field in (*CLINIC_PROFILE_FIELDS, "brand_colour", *CLINIC_PACK_FIELDS)}


def _store_logo(clinic: Clinic, logo: PreparedLogo) -> None:
    # A random name: the original file name may carry someone's details.
    clinic.logo.save(f"{uuid.uuid4().hex}.{logo.extension}", ContentFile(logo.content), save=False)


def clinic_update(
    *,
    clinic: Clinic,
    by: User,
    values: dict[str, Any],
    logo: PreparedLogo | None = None,
    remove_logo: bool = False,
    request: HttpRequest | None = None,
) -> Clinic:
    """Save the clinic profile. `values` holds CLINIC_PROFILE_FIELDS, brand_colour and CLINIC_PACK_FIELDS,
    already validated; `logo` is an image already checked and re-encoded (clearplan.accounts.logos)."""
    new_logo_name = ""
    try:
        with transaction.atomic():
            clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
            before = _clinic_values(clinic)
            old_logo_name = clinic.logo.name if clinic.logo else ""
            for field, value in values.items():
                if field in (*CLINIC_PROFILE_FIELDS, "brand_colour", *CLINIC_PACK_FIELDS):
                    setattr(clinic, field, value)
            clinic.brand_colour = clinic.brand_colour.upper()
            changes = changes_between(before, _clinic_values(clinic))
            # Everything is checked before a new file is written, so a refusal leaves no file behind.
            clinic.full_clean(exclude=["organisation", "logo"])
            if logo is not None:
                _store_logo(clinic, logo)
                new_logo_name = clinic.logo.name
                changes["logo"] = ["replaced" if old_logo_name else None, "uploaded"]
            elif remove_logo and old_logo_name:
                clinic.logo = ""
                changes["logo"] = ["uploaded", None]
            clinic.save()
            if changes:
                audit_record(
                    action=AuditEvent.Action.SETTINGS,
                    request=request,
                    actor=by,
                    clinic=clinic,
                    obj=clinic,
                    changes=changes,
                )
            if old_logo_name and old_logo_name != (clinic.logo.name if clinic.logo else ""):
                storage = clinic.logo.storage
                transaction.on_commit(lambda: storage.delete(old_logo_name))
    except BaseException:
        # The new file was written but the change it belongs to was not saved.
        if new_logo_name:
            clinic.logo.storage.delete(new_logo_name)
        raise
    return clinic


def clinic_create(
    *, organisation: Organisation, by: User, values: dict[str, Any], request: HttpRequest | None = None
) -> Clinic:
    with transaction.atomic():
        clinic = Clinic(organisation=organisation)
        for field in CLINIC_PROFILE_FIELDS:
            if field in values:
                setattr(clinic, field, values[field])
        clinic.full_clean()
        clinic.save()
        audit_record(
            action=AuditEvent.Action.CREATE,
            request=request,
            actor=by,
            clinic=clinic,
            obj=clinic,
            changes={field: getattr(clinic, field) for field in CLINIC_PROFILE_FIELDS},
        )
    return clinic


# ---------- Your own profile ----------


def profile_update(
    *, user: User, first_name: str, last_name: str, notify_by_email: bool, request: HttpRequest | None = None
) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = {"first_name": user.first_name, "last_name": user.last_name, "notify_by_email": user.notify_by_email}
        after = {"first_name": first_name, "last_name": last_name, "notify_by_email": notify_by_email}
        for field, value in after.items():
            setattr(user, field, value)
        user.save(update_fields=list(after))
        changes = changes_between(before, after)
        if changes:
            audit_record(action=AuditEvent.Action.UPDATE, request=request, actor=user, obj=user, changes=changes)
    return user
