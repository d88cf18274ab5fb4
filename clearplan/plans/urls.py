from django.urls import include, path

from clearplan.plans import views

app_name = "plans"
urlpatterns = [
    path("new/<uuid:patient_id>/", views.case_create_view, name="create"),
    path("<uuid:public_id>/", views.case_detail_view, name="detail"),
    path("<uuid:public_id>/edit/", views.case_edit_view, name="edit"),
    path("<uuid:public_id>/no-pack/", views.case_no_pack_view, name="no_pack"),
    path("<uuid:public_id>/pack-needed/", views.case_pack_needed_view, name="pack_needed"),
    path("<uuid:public_id>/options/add/", views.option_add_view, name="option_add"),
    path("<uuid:public_id>/options/<uuid:option_id>/edit/", views.option_edit_view, name="option_edit"),
    path("<uuid:public_id>/options/<uuid:option_id>/remove/", views.option_remove_view, name="option_remove"),
    path("<uuid:public_id>/options/<uuid:option_id>/recommend/", views.option_recommend_view, name="option_recommend"),
    path("<uuid:public_id>/options/<uuid:option_id>/move/", views.option_move_view, name="option_move"),
    path("<uuid:public_id>/options/<uuid:option_id>/lines/add/", views.line_add_view, name="line_add"),
    path("<uuid:public_id>/lines/<uuid:line_id>/edit/", views.line_edit_view, name="line_edit"),
    path("<uuid:public_id>/lines/<uuid:line_id>/remove/", views.line_remove_view, name="line_remove"),
    path("", include("clearplan.plans.image_urls")),
    path("", include("clearplan.plans.composer_urls")),
]
