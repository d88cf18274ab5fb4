"""Reads of staff and invitations, always scoped to one clinic."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404

from clearplan.accounts.models import Clinic, Invitation, Membership, User
from clearplan.accounts.services import invitation_token_hash


def _has_authenticator_app() -> Exists:
    return Exists(Authenticator.objects.filter(user_id=OuterRef("user_id"), type=Authenticator.Type.TOTP))


def team_members(clinic: Clinic) -> QuerySet[Membership]:
    """Everyone with a role at the clinic, with whether they use two-factor."""
    return (
        Membership.objects.filter(clinic=clinic)
        .select_related("user")
        .annotate(has_two_factor=_has_authenticator_app())
        .order_by("user__first_name", "user__last_name", "user__email")
    )


def organisation_admins_without_membership(clinic: Clinic) -> QuerySet[User]:
    """Organisation admins see every clinic, even ones where they hold no role."""
    return (
        User.objects.filter(organisation_id=clinic.organisation_id, is_organisation_admin=True, is_active=True)
        .exclude(memberships__clinic=clinic)
        .annotate(
            has_two_factor=Exists(Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP))
        )
    )


def open_invitations(clinic: Clinic) -> QuerySet[Invitation]:
    """Invitations not yet accepted or withdrawn, expired ones included so they can be resent."""
    return Invitation.objects.pending().filter(clinic=clinic).select_related("invited_by").order_by("-sent_at")


def get_membership_for_clinic(clinic: Clinic, user_public_id: object) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "clinic"), clinic=clinic, user__public_id=user_public_id
    )


def get_invitation_for_clinic(clinic: Clinic, public_id: object) -> Invitation:
    return get_object_or_404(Invitation.objects.select_related("clinic"), clinic=clinic, public_id=public_id)


def invitation_for_token(token: str) -> Invitation | None:
    return invitation_for_token_hash(invitation_token_hash(token))


def invitation_for_token_hash(token_hash: str) -> Invitation | None:
    return Invitation.objects.select_related("clinic__organisation", "invited_by").filter(token_hash=token_hash).first()
