"""The public end of an invitation: the link in the email. Everything else is under settings/."""

from django.urls import path

from clearplan.accounts import views

app_name = "join"
urlpatterns = [
    path("<str:token>/", views.invitation_accept, name="accept"),
]
