"""The notifications page, opening one, and marking them read."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from clearplan.accounts.access import staff_required
from clearplan.accounts.middleware import ACTIVE_CLINIC_SESSION_KEY
from clearplan.notifications import services
from clearplan.notifications.forms import EmailChoicesForm
from clearplan.notifications.selectors import get_notification_for_user, notifications_for, unread_count

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

PAGE_SIZE = 50


@require_http_methods(["GET", "HEAD"])
@staff_required
def notification_list(request: HttpRequest) -> HttpResponse:
    clinics = request.available_clinics
    page = Paginator(notifications_for(request.user, clinics), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/notification_list.html",
        {
            "page": page,
            "notifications": page.object_list,
            "unread": unread_count(request.user, clinics),
            "several_clinics": len(clinics) > 1,
        },
    )


@require_http_methods(["GET", "HEAD"])
@staff_required
def notification_open(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Follow a notification to its case: it is marked read, and the clinic it belongs to becomes
    the one being worked in (the case page shows cases of that clinic only)."""
    notification = get_notification_for_user(request, public_id)
    services.notification_mark_read(notification=notification)
    if notification.clinic_id != request.clinic.pk:
        request.session[ACTIVE_CLINIC_SESSION_KEY] = str(notification.clinic.public_id)
    # Links are written as internal paths; anything else is not followed.
    target = notification.link_url
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@require_POST
@staff_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = services.notifications_mark_all_read(user=request.user, clinics=request.available_clinics)
    if marked:
        messages.success(request, "All notifications are marked as read.")
    return redirect("notifications:list")


@require_POST
@staff_required
def email_choices(request: HttpRequest) -> HttpResponse:
    form = EmailChoicesForm(request.POST)
    if form.is_valid():
        services.notification_preferences_set(user=request.user, choices=form.cleaned_data, request=request)
        messages.success(request, "Your email choices are saved.")
    else:
        messages.error(request, "Choose when to email you for each kind of notification.")
    return redirect("accounts:profile")
