"""What the patient does from their pack: ask a question, proceed, not now, sign."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
