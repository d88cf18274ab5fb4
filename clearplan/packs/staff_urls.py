"""The team's pack routes, under /cases/<case>/pack/ (namespace "packs")."""

from django.urls import path

from clearplan.packs import staff_views

urlpatterns = [
    path("<uuid:public_id>/pack/send/", staff_views.pack_send_view, name="send"),
    path("<uuid:public_id>/pack/update/", staff_views.publish_update_view, name="publish_update"),
    path("<uuid:public_id>/pack/sends/<uuid:send_id>/cancel/", staff_views.pack_send_cancel_view, name="send_cancel"),
    path("<uuid:public_id>/pack/links/<uuid:link_id>/revoke/", staff_views.link_revoke_view, name="link_revoke"),
    path("<uuid:public_id>/pack/links/<uuid:link_id>/resend/", staff_views.link_resend_view, name="link_resend"),
    path(
        "<uuid:public_id>/pack/responses/<uuid:response_id>/seen/",
        staff_views.response_seen_view,
        name="response_seen",
    ),
    path(
        "<uuid:public_id>/pack/signatures/<uuid:signature_id>/signed.pdf",
        staff_views.signature_pdf_view,
        name="signature_pdf",
    ),
    path(
        "<uuid:public_id>/pack/signatures/<uuid:signature_id>/email/",
        staff_views.signature_email_view,
        name="signature_email",
    ),
    path("<uuid:public_id>/pack/versions/<uuid:version_id>/pack.pdf", staff_views.version_pdf_view, name="version_pdf"),
]
