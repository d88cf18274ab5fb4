"""Composer routes; included by clearplan/plans/urls.py inside the "plans" namespace."""

from django.urls import path

from clearplan.plans import composer_views

urlpatterns = [
    path("compose/new/", composer_views.compose_start, name="compose_start"),
    path("compose/new/<uuid:patient_id>/", composer_views.compose_template, name="compose_template"),
    path("compose/brand/<uuid:clinic_id>.css", composer_views.brand_stylesheet, name="compose_brand_css"),
    path("<uuid:public_id>/compose/plan/", composer_views.compose_plan, name="compose_plan"),
    path(
        "<uuid:public_id>/compose/plan/<uuid:option_id>/suggestions/",
        composer_views.compose_add_suggestions,
        name="compose_add_suggestions",
    ),
    path("<uuid:public_id>/compose/images/", composer_views.compose_images, name="compose_images"),
    path("<uuid:public_id>/compose/preview/", composer_views.compose_preview, name="compose_preview"),
    path("<uuid:public_id>/compose/pack/", composer_views.compose_pack_page, name="compose_pack_page"),
    path("<uuid:public_id>/compose/ready/", composer_views.compose_ready, name="compose_ready"),
]
