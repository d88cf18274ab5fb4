from django.urls import path, re_path

from clearplan.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.conversations, name="conversations"),
    path("outbox/", views.outbox, name="outbox"),
    # Only names the outbox gives out (32 hex digits) reach the view at all.
    re_path(r"^outbox/(?P<name>[0-9a-f]{32})/$", views.outbox_message, name="outbox_message"),
]
