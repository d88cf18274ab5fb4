from __future__ import annotations

import mimetypes
from functools import wraps
from typing import TYPE_CHECKING, Any

from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import perform_login
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clearplan.accounts import selectors, services
from clearplan.accounts.access import clinics_for_user, manager_required, staff_required
from clearplan.accounts.forms import (
    AcceptInvitationForm,
    ClinicDetailsForm,
    ClinicProfileForm,
    InvitationForm,
    MembershipForm,
    OrganisationForm,
    ProfileForm,
    TwoFactorRequirementForm,
    clinic_initial,
)
from clearplan.accounts.middleware import ACTIVE_CLINIC_SESSION_KEY
from clearplan.accounts.models import Invitation
from clearplan.notifications.forms import EmailChoicesForm
from clearplan.notifications.services import email_choices_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from django import forms


def organisation_admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @staff_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_organisation_admin:
            raise PermissionDenied("Only an organisation administrator can change organisation settings.")
        return view(request, *args, **kwargs)

    return wrapper


def _attach(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the form: on the field it names, otherwise at the top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# ---------- Settings hub and your profile ----------


@staff_required
def settings_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings_home.html")


@staff_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        initial={"first_name": user.first_name, "last_name": user.last_name, "notify_by_email": user.notify_by_email},
    )
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=user, request=request, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    from allauth.mfa.models import Authenticator

    has_two_factor = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    email_choices_form = EmailChoicesForm(initial=email_choices_for(user))
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "has_two_factor": has_two_factor, "email_choices_form": email_choices_form},
    )


@require_POST
@staff_required
def switch_clinic(request: HttpRequest) -> HttpResponse:
    chosen = request.POST.get("clinic", "")
    if any(str(clinic.public_id) == chosen for clinic in request.available_clinics):
        request.session[ACTIVE_CLINIC_SESSION_KEY] = chosen
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    # A record page from the old clinic would 404 in the new one, so land on the section instead.
    if next_url.startswith("/patients/"):
        next_url = "/patients/"
    return redirect(next_url)


# ---------- Team ----------


@manager_required
def team(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic
    return render(
        request,
        "accounts/team.html",
        {
            "members": selectors.team_members(clinic),
            "organisation_admins": selectors.organisation_admins_without_membership(clinic),
            "invitations": selectors.open_invitations(clinic),
            # The rule covers the whole organisation, so only its administrators change it;
            # other managers see it read-only.
            "two_factor_form": TwoFactorRequirementForm(
                initial={"require_two_factor": clinic.organisation.require_two_factor}
            )
            if request.user.is_organisation_admin
            else None,
        },
    )


@manager_required
def invite(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                clinic=request.clinic, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}. The link works for 7 days.")
            return redirect("accounts:team")
    return render(request, "accounts/invite.html", {"form": form})


@manager_required
def member_edit(request: HttpRequest, user_id: str) -> HttpResponse:
    membership = selectors.get_membership_for_clinic(request.clinic, user_id)
    form = MembershipForm(
        request.POST or None, initial={"role": membership.role, "clinical_role": membership.clinical_role}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_change_role(
                membership=membership, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, f"{membership.user.display_name}'s role is saved.")
            return redirect("accounts:team")
    return render(request, "accounts/member_edit.html", {"membership": membership, "form": form})


@manager_required
def member_remove(request: HttpRequest, user_id: str) -> HttpResponse:
    membership = selectors.get_membership_for_clinic(request.clinic, user_id)
    error = None
    if request.method == "POST":
        try:
            services.membership_remove(membership=membership, by=request.user, request=request)
        except ValidationError as refusal:
            error = refusal.messages[0]
        else:
            messages.success(request, f"{membership.user.display_name} no longer has access to {request.clinic.name}.")
            if membership.user == request.user:
                return redirect("pipeline:today")
            return redirect("accounts:team")
    return render(request, "accounts/member_remove.html", {"membership": membership, "error": error})


def _invitation_action(
    request: HttpRequest, invitation_id: str, action: Callable[..., Invitation], done: str
) -> HttpResponse:
    invitation = selectors.get_invitation_for_clinic(request.clinic, invitation_id)
    try:
        action(invitation=invitation, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, done.format(email=invitation.email))
    return redirect("accounts:team")


@require_POST
@manager_required
def invitation_resend(request: HttpRequest, invitation_id: str) -> HttpResponse:
    return _invitation_action(
        request, invitation_id, services.invitation_resend, "A new invitation link is on its way to {email}."
    )


@require_POST
@manager_required
def invitation_revoke(request: HttpRequest, invitation_id: str) -> HttpResponse:
    return _invitation_action(
        request,
        invitation_id,
        services.invitation_revoke,
        "The invitation to {email} is withdrawn; its link no longer works.",
    )


@require_POST
@organisation_admin_required
def two_factor_requirement(request: HttpRequest) -> HttpResponse:
    form = TwoFactorRequirementForm(request.POST)
    form.is_valid()
    required = form.cleaned_data.get("require_two_factor", False)
    services.organisation_set_two_factor_requirement(
        organisation=request.clinic.organisation, by=request.user, required=required, request=request
    )
    if required:
        messages.success(request, "Two-factor authentication is now required for everyone in your organisation.")
    else:
        messages.success(request, "Two-factor authentication is now optional.")
    return redirect("accounts:team")


# ---------- Clinic profile and logo ----------


@manager_required
def clinic_profile(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic
    form = ClinicProfileForm(
        request.POST or None,
        request.FILES or None,
        initial=clinic_initial(clinic),
        current=clinic,
        organisation_clinics=clinic.organisation.clinics.all(),
    )
    if request.method == "POST" and form.is_valid():
        values = {key: value for key, value in form.cleaned_data.items() if key not in ("logo", "remove_logo")}
        try:
            services.clinic_update(
                clinic=clinic,
                by=request.user,
                values=values,
                logo=form.cleaned_data["logo"],
                remove_logo=form.cleaned_data["remove_logo"],
                request=request,
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, "The clinic profile is saved.")
            return redirect("accounts:clinic")
    return render(request, "accounts/clinic_profile.html", {"form": form, "clinic": clinic})


@never_cache
@staff_required
def clinic_logo(request: HttpRequest, clinic_id: str) -> HttpResponse:
    """Logos are served only to signed-in staff of that clinic, never from a public address."""
    clinic = get_object_or_404(clinics_for_user(request.user), public_id=clinic_id)
    if not clinic.logo:
        raise Http404("This clinic has no logo.")
    content_type = mimetypes.guess_type(clinic.logo.name)[0] or "application/octet-stream"
    response = FileResponse(clinic.logo.open("rb"), content_type=content_type)
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# ---------- Organisation ----------


@organisation_admin_required
def organisation(request: HttpRequest) -> HttpResponse:
    org = request.clinic.organisation
    form = OrganisationForm(
        request.POST or None, initial={"name": org.name, "require_two_factor": org.require_two_factor}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(organisation=org, by=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, "Organisation settings are saved.")
            return redirect("accounts:organisation")
    clinics = org.clinics.order_by("name")
    return render(request, "accounts/organisation.html", {"form": form, "organisation": org, "clinics": clinics})


@organisation_admin_required
def clinic_create(request: HttpRequest) -> HttpResponse:
    org = request.clinic.organisation
    form = ClinicDetailsForm(
        request.POST or None,
        initial={
            "time_zone": request.clinic.time_zone,
            "locale": request.clinic.locale,
            "currency": request.clinic.currency,
            "tooth_numbering": request.clinic.tooth_numbering,
        },
        organisation_clinics=org.clinics.all(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            clinic = services.clinic_create(
                organisation=org, by=request.user, values=form.cleaned_data, request=request
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, f"{clinic.name} is added. Switch to it in the header to invite its team.")
            return redirect("accounts:organisation")
    return render(request, "accounts/clinic_new.html", {"form": form})


# ---------- Accepting an invitation (public: the link in the email) ----------

# Holds the hash of the token from the emailed link once it has been checked, so the
# pages that follow (and the form posts) carry no token in their address: addresses end
# up in access logs and browser history. A resend changes the hash, so an old link's
# session stops working too.
INVITATION_SESSION_KEY = "clearplan_invitation_token_hash"


def _no_referrer(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Links and resources on invitation pages never learn the address they came from."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def _invitation_unavailable(request: HttpRequest, invitation: Invitation | None, status: str) -> HttpResponse:
    return render(
        request, "accounts/invitation_unavailable.html", {"invitation": invitation, "status": status}, status=410
    )


@never_cache
@_no_referrer
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the email: check the token once, keep it in the session, and move to an address without it."""
    invitation = selectors.invitation_for_token(token)
    if invitation is None:
        return _invitation_unavailable(request, None, "unknown")
    if invitation.status != Invitation.Status.PENDING:
        return _invitation_unavailable(request, invitation, invitation.status)
    request.session[INVITATION_SESSION_KEY] = invitation.token_hash
    return redirect("join:accept")


@never_cache
@_no_referrer
def invitation_accept(request: HttpRequest) -> HttpResponse:
    token_hash = request.session.get(INVITATION_SESSION_KEY)
    invitation = selectors.invitation_for_token_hash(token_hash) if token_hash else None
    if invitation is None:
        return _invitation_unavailable(request, None, "not_opened" if not token_hash else "unknown")
    if invitation.status != Invitation.Status.PENDING:
        request.session.pop(INVITATION_SESSION_KEY, None)
        return _invitation_unavailable(request, invitation, invitation.status)
    existing = services.invitation_existing_account(invitation)
    if existing is not None:
        return _join_with_existing_account(request, invitation, existing)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept_new_account(
                invitation=invitation,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            response = perform_login(request, user, redirect_url=reverse("pipeline:today"))
            # They have just chosen and typed their password: a fresh sign-in for allauth too.
            record_authentication(request, user, method="password", email=user.email)
            request.session[ACTIVE_CLINIC_SESSION_KEY] = str(invitation.clinic.public_id)
            messages.success(
                request, f"Welcome to Clearplan, {user.first_name}. You're signed in at {invitation.clinic.name}."
            )
            return response
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form})


def _join_with_existing_account(request: HttpRequest, invitation: Invitation, user: Any) -> HttpResponse:
    """The address already has an account here: joining adds the clinic, and the person signs in as usual."""
    signed_in_as_someone_else = request.user.is_authenticated and request.user != user
    if request.method == "POST" and not signed_in_as_someone_else:
        services.invitation_accept_existing_account(invitation=invitation, user=user, request=request)
        request.session.pop(INVITATION_SESSION_KEY, None)
        clinic = invitation.clinic
        if request.user.is_authenticated:
            request.session[ACTIVE_CLINIC_SESSION_KEY] = str(clinic.public_id)
            messages.success(request, f"You've joined {clinic.name}. You're now working there.")
            return redirect("pipeline:today")
        messages.success(request, f"You've joined {clinic.name}. Sign in with your usual email and password.")
        return redirect("account_login")
    return render(
        request,
        "accounts/invitation_join.html",
        {"invitation": invitation, "signed_in_as_someone_else": signed_in_as_someone_else},
    )
