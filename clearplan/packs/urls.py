"""The patient's side lives under /p/ (patient_urls.py); the team's pack pages under a case (staff_urls.py)."""

from django.urls import include, path

app_name = "packs"
urlpatterns = [
    path("p/", include("clearplan.packs.patient_urls")),
    path("cases/", include("clearplan.packs.staff_urls")),
]
