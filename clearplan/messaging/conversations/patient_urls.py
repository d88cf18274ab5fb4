"""Pages patients reach from their messages, without signing in."""

from django.urls import re_path

from clearplan.messaging.conversations import unsubscribe

app_name = "unsubscribe"
urlpatterns = [
    # Only tokens Clearplan gives out (32 hex digits) reach the view at all.
    re_path(r"^(?P<token>[0-9a-f]{32})/$", unsubscribe.unsubscribe, name="unsubscribe"),
]
