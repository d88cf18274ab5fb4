"""Case image routes; included by clearplan/plans/urls.py inside the "plans" namespace."""

from django.urls import path

from clearplan.plans import image_views

urlpatterns = [
    path("<uuid:case_id>/images/", image_views.case_images, name="case_images"),
    path("<uuid:case_id>/images/upload/", image_views.image_upload, name="image_upload"),
    path("<uuid:case_id>/images/pack/", image_views.case_key_images, name="case_key_images"),
    path("images/<uuid:image_id>/", image_views.image_edit, name="image_edit"),
    path("images/<uuid:image_id>/caption/", image_views.image_caption, name="image_caption"),
    path("images/<uuid:image_id>/markup/", image_views.image_markup, name="image_markup"),
    path("images/<uuid:image_id>/delete/", image_views.image_delete, name="image_delete"),
    path("images/<uuid:image_id>/<str:size>/", image_views.image_file, name="image_file"),
]
