"""Addresses providers post delivery reports to (see clearplan/messaging/hooks.py)."""

from django.urls import path

from clearplan.messaging import hooks

app_name = "hooks"
urlpatterns = [
    path("sms/status/", hooks.sms_status, name="sms_status"),
    path("email/events/", hooks.email_events, name="email_events"),
]
