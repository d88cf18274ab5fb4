"""Appointments: the team's pages under the case, and the patient's confirm link (/a/<token>, kept
short for text messages; gunicorn's access log writes it as /a/…)."""

from django.urls import path

from clearplan.pipeline import booking_views

urlpatterns = [
    path("cases/<uuid:case_id>/appointments/new/", booking_views.booking_new, name="booking_new"),
    path("cases/<uuid:case_id>/appointments/<uuid:booking_id>/edit/", booking_views.booking_edit, name="booking_edit"),
    path(
        "cases/<uuid:case_id>/appointments/<uuid:booking_id>/cancel/",
        booking_views.booking_cancel,
        name="booking_cancel",
    ),
    path(
        "cases/<uuid:case_id>/appointments/<uuid:booking_id>/send-confirmation/",
        booking_views.booking_resend,
        name="booking_resend",
    ),
    path(
        "cases/<uuid:case_id>/appointments/<uuid:booking_id>/appointment.ics",
        booking_views.booking_calendar,
        name="booking_calendar",
    ),
    path("a/<str:token>", booking_views.booking_confirm, name="booking_confirm"),
]
