from django.urls import path, re_path

from clearplan.messaging import views
from clearplan.messaging.conversations import views as conversation_views

app_name = "messaging"
urlpatterns = [
    path("", views.conversations, name="conversations"),
    path("<uuid:public_id>/", conversation_views.inbox, name="conversation"),
    path("outbox/", views.outbox, name="outbox"),
    # Only names the outbox gives out (32 hex digits) reach the view at all.
    re_path(r"^outbox/(?P<name>[0-9a-f]{32})/$", views.outbox_message, name="outbox_message"),
]
