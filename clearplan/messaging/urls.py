from django.urls import path

from clearplan.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.conversations, name="conversations"),
]
