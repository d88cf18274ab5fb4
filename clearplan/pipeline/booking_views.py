"""Appointment pages: the team's (record, change, cancel, send the confirmation again, download the
calendar file), each reading its case through `get_case_for_user` and the booking through the case
(another clinic's is a 404); and the patient's confirm page, reached by the link in their message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clearplan.accounts.access import staff_required
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.packs import access as patient_access
from clearplan.pipeline import bookings, calendar_files
from clearplan.pipeline.booking_forms import BookingForm, CancelForm, booking_initial
from clearplan.pipeline.booking_messages import duration_in_words, patient_reach, when_in_words
from clearplan.pipeline.models import Booking
from clearplan.plans.forms import attach_errors
from clearplan.plans.models import Case
from clearplan.plans.selectors import get_case_for_user
from clearplan.plans.services import CASE_RECORD_TYPE
from clearplan.plans.views import audit_case_view


def _panel_url(case: Case) -> str:
    return reverse("plans:detail", args=[case.public_id]) + "#appointments"


def get_booking_of_case(case: Case, public_id: uuid.UUID) -> Booking:
    try:
        return (
            Booking.objects.select_related("case__clinic", "case__patient", "practitioner")
            .prefetch_related("lines")
            .get(case=case, public_id=public_id)
        )
    except Booking.DoesNotExist as error:
        raise Http404("No such appointment.") from error


def _told(case: Case, booking: Booking) -> str:
    """What the team is told about the patient's message after a booking or a change."""
    reach = patient_reach(case.patient)
    if booking.confirmation_sent_at is not None:
        return f"The confirmation is on its way to {reach.name} by {reach.in_words}."
    return f"No confirmation could be sent: {' '.join(reach.problems)}"


def _form_page(
    request: HttpRequest, case: Case, form: BookingForm, booking: Booking | None, status: int = 200
) -> HttpResponse:
    context = {"case": case, "patient": case.patient, "form": form, "booking": booking}
    return render(request, "pipeline/bookings/booking_form.html", context, status=status)


def _submit(
    request: HttpRequest, case: Case, booking: Booking | None, action: Callable[[BookingForm], str]
) -> HttpResponse:
    """Read the form, call the service (`action`, which returns what to tell the team), and go back
    to the case; or show the form again with every refusal at its field."""
    form = BookingForm(request.POST, case=case)
    if form.is_valid():
        try:
            notice = action(form)
        except ValidationError as error:
            form.attach(error)
        else:
            messages.success(request, notice)
            return redirect(_panel_url(case))
    return _form_page(request, case, form, booking, status=400)


@require_http_methods(["GET", "POST"])
@staff_required
def booking_new(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    if request.method != "POST":
        audit_case_view(request, case)
        initial = {"submission_key": uuid.uuid4().hex, "practitioner": str(case.dentist.public_id)}
        return _form_page(request, case, BookingForm(case=case, initial=initial), None)

    def record(form: BookingForm) -> str:
        booking = bookings.booking_create(
            case=case,
            by=request.user,
            submission_key=form.cleaned_data["submission_key"],
            request=request,
            **form.service_arguments(),
        )
        return f"Appointment recorded for {when_in_words(case.clinic, booking.starts_at)}. {_told(case, booking)}"

    return _submit(request, case, None, record)


@require_http_methods(["GET", "POST"])
@staff_required
def booking_edit(request: HttpRequest, case_id: uuid.UUID, booking_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    booking = get_booking_of_case(case, booking_id)
    if booking.status == Booking.Status.CANCELLED:
        messages.info(request, "That appointment was cancelled. Record a new one instead.")
        return redirect(_panel_url(case))
    if request.method != "POST":
        audit_case_view(request, case)
        return _form_page(request, case, BookingForm(case=case, initial=booking_initial(booking)), booking)

    def save(form: BookingForm) -> str:
        sequence = booking.sequence
        updated = bookings.booking_update(booking=booking, by=request.user, request=request, **form.service_arguments())
        if updated.sequence == sequence:
            return "Appointment saved. The time is the same, so the patient was not messaged."
        return f"Appointment moved to {when_in_words(case.clinic, updated.starts_at)}. {_told(case, updated)}"

    return _submit(request, case, booking, save)


@require_http_methods(["GET", "POST"])
@staff_required
def booking_cancel(request: HttpRequest, case_id: uuid.UUID, booking_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    booking = get_booking_of_case(case, booking_id)
    if booking.status == Booking.Status.CANCELLED:
        messages.info(request, "That appointment is already cancelled.")
        return redirect(_panel_url(case))
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            bookings.booking_cancel(
                booking=booking,
                by=request.user,
                reason=form.cleaned_data["reason"],
                tell_patient=form.cleaned_data["tell_patient"],
                request=request,
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, f"Appointment for {when_in_words(case.clinic, booking.starts_at)} cancelled.")
            return redirect(_panel_url(case))
    if request.method != "POST":
        audit_case_view(request, case)
    context = {
        "case": case,
        "patient": case.patient,
        "booking": booking,
        "form": form,
        "when": when_in_words(case.clinic, booking.starts_at),
        "is_last": not case.bookings.filter(status=Booking.Status.BOOKED).exclude(pk=booking.pk).exists(),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "pipeline/bookings/booking_cancel.html", context, status=status)


@require_POST
@staff_required
def booking_resend(request: HttpRequest, case_id: uuid.UUID, booking_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    booking = get_booking_of_case(case, booking_id)
    try:
        bookings.booking_confirmation_resend(booking=booking, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, f"The confirmation was not sent. {' '.join(error.messages)}")
    else:
        reach = patient_reach(case.patient)
        messages.success(request, f"The confirmation is on its way to {reach.name} by {reach.in_words}.")
    return redirect(_panel_url(case))


@require_GET
@staff_required
def booking_calendar(request: HttpRequest, case_id: uuid.UUID, booking_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    booking = get_booking_of_case(case, booking_id)
    audit_record(
        action=AuditEvent.Action.EXPORT,
        request=request,
        obj=case,
        object_type=CASE_RECORD_TYPE,
        changes={"appointment_calendar_file": [None, str(booking.public_id)]},
    )
    response = HttpResponse(calendar_files.booking_calendar(booking), content_type=calendar_files.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{calendar_files.FILE_NAME}"'
    response["Cache-Control"] = "no-store"
    return response


# ---------- The patient's confirm page ----------


def _unlogged(response: HttpResponse) -> HttpResponse:
    # Django logs every 4xx with its path, which here holds the link's token.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@patient_access.patient_form
@require_http_methods(["GET", "POST"])
def booking_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Only the clinic's name, the day and time, and a Confirm button: the link may be opened by
    whoever sees the message, so nothing about the patient or the treatment shows."""
    booking = bookings.booking_for_token(token)
    if booking is None:
        response = render(request, "pipeline/bookings/patient_unknown.html", status=404)
        return patient_access.patient_headers(_unlogged(response))
    if request.method == "POST":
        bookings.booking_confirm_by_patient(booking=booking, request=request)
        return patient_access.patient_headers(redirect(request.path))
    clinic = booking.case.clinic
    context = {
        "clinic": clinic,
        "clinic_phone": patient_access.display_phone(clinic) if clinic.phone else "",
        "booking": booking,
        "when": when_in_words(clinic, booking.starts_at),
        "length": duration_in_words(booking.duration_minutes),
        "passed": booking.starts_at <= timezone.now(),
    }
    return patient_access.patient_headers(render(request, "pipeline/bookings/patient_confirm.html", context))
