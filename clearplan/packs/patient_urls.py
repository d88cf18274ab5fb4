"""The patient's routes. Nothing in them identifies the patient: the link's token is exchanged for
a cookie on first use, and every other address holds only random ids."""

from django.urls import include, path

from clearplan.packs import patient_views

urlpatterns = [
    # What the patient does (ask, proceed, not now, sign): clearplan/packs/patient_response_urls.py.
    path("", include("clearplan.packs.patient_response_urls")),
    path("images/<uuid:image_id>/<str:size>", patient_views.patient_image, name="patient_image"),
    path("logo/<uuid:clinic_id>", patient_views.patient_logo, name="patient_logo"),
    path("<str:token>", patient_views.patient_open, name="patient_open"),
]
