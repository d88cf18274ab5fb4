"""The team's pack routes, under /cases/<case>/pack/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
