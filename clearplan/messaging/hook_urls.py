"""Addresses providers post to: delivery reports (clearplan/messaging/hooks.py) and patients'
replies (clearplan/messaging/conversations/sms_inbound.py and email_inbound.py)."""

from django.urls import path

from clearplan.messaging import hooks
from clearplan.messaging.conversations import email_inbound, sms_inbound

app_name = "hooks"
urlpatterns = [
    path("sms/status/", hooks.sms_status, name="sms_status"),
    path("email/events/", hooks.email_events, name="email_events"),
    path("sms/inbound/", sms_inbound.sms_inbound_hook, name="sms_inbound"),
    path("email/inbound/", email_inbound.email_inbound_hook, name="email_inbound"),
]
