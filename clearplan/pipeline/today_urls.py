from django.urls import path

from clearplan.pipeline import today_views

urlpatterns = [
    path("today/", today_views.today, name="today"),
]
