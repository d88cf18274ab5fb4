"""What the patient does from their pack: ask a question, proceed, not now, sign, and the signed PDF."""

from django.urls import path

from clearplan.packs import response_views

urlpatterns = [
    path("respond/proceed/", response_views.respond_proceed, name="respond_proceed"),
    path("respond/question/", response_views.respond_question, name="respond_question"),
    path("respond/not-now/", response_views.respond_not_now, name="respond_not_now"),
    path("sign/", response_views.sign, name="sign"),
    path("signed/<uuid:signature_id>.pdf", response_views.signed_pdf, name="signed_pdf"),
]
