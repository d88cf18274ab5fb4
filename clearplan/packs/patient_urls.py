"""The patient's routes. Nothing in them identifies the patient: the link's token is exchanged for
a cookie on first use, and every other address holds only random ids."""

from django.urls import include, path

from clearplan.packs import patient_views

urlpatterns = [
    # What the patient does (ask, proceed, not now, sign): clearplan/packs/patient_response_urls.py.
    path("", include("clearplan.packs.patient_response_urls")),
    path("", patient_views.patient_pack, name="patient_pack"),
    path("verify/", patient_views.patient_verify, name="patient_verify"),
    path("code/", patient_views.patient_send_code, name="patient_send_code"),
    path("sign-out/", patient_views.patient_sign_out, name="patient_sign_out"),
    path("signed-out/", patient_views.patient_signed_out, name="patient_signed_out"),
    path("pdf/", patient_views.patient_pdf, name="patient_pdf"),
    path("engagement/", patient_views.patient_engagement, name="patient_engagement"),
    path("images/<uuid:image_id>/<str:size>", patient_views.patient_image, name="patient_image"),
    path("logo/<uuid:clinic_id>", patient_views.patient_logo, name="patient_logo"),
    path("brand/<uuid:clinic_id>.css", patient_views.patient_brand_css, name="patient_brand_css"),
    path("<str:token>", patient_views.patient_open, name="patient_open"),
]
