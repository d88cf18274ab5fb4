"""The public end of an invitation: the link in the email. Everything else is under settings/."""

from django.urls import path

from clearplan.accounts import views

app_name = "join"
urlpatterns = [
    # The link's token is checked once and kept in the session, so the form has an address without it.
    path("accept/", views.invitation_accept, name="accept"),
    path("<str:token>/", views.invitation_open, name="open"),
]
