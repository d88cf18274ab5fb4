from django.urls import path

from clearplan.catalog import template_views as views

urlpatterns = [
    path("pack-templates/", views.pack_template_list, name="pack_templates"),
    path("pack-templates/starter/", views.pack_templates_starter, name="pack_templates_starter"),
    path("pack-templates/<uuid:public_id>/", views.pack_template_detail, name="pack_template_detail"),
    path("pack-templates/<uuid:public_id>/edit/", views.pack_template_edit, name="pack_template_edit"),
    path("pack-templates/<uuid:public_id>/preview/", views.pack_template_preview, name="pack_template_preview"),
    path("pack-templates/<uuid:public_id>/copy/", views.pack_template_duplicate, name="pack_template_duplicate"),
    path("pack-templates/<uuid:public_id>/retire/", views.pack_template_retire, name="pack_template_retire"),
    path("pack-templates/<uuid:public_id>/restore/", views.pack_template_restore, name="pack_template_restore"),
]
