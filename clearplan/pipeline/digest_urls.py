from django.urls import path

from clearplan.pipeline import digest_views

urlpatterns = [
    path("settings/profile/digests/", digest_views.digest_choices, name="digest_choices"),
    path("digests/<uuid:clinic_id>/<slug:where>/", digest_views.digest_open, name="digest_open"),
]
