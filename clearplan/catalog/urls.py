from django.urls import include, path

from clearplan.catalog import views

app_name = "catalog"
urlpatterns = [
    path("procedures/", views.procedure_list, name="procedures"),
    path("procedures/new/", views.procedure_create, name="procedure_create"),
    path("procedures/starter/", views.starter_install, name="starter_install"),
    path("procedures/import/", views.import_descriptions, name="import_descriptions"),
    path("procedures/import/confirm/", views.import_confirm, name="import_confirm"),
    path("procedures/<uuid:public_id>/", views.procedure_detail, name="procedure_detail"),
    path("procedures/<uuid:public_id>/edit/", views.procedure_edit, name="procedure_edit"),
    path("procedures/<uuid:public_id>/retire/", views.procedure_retire, name="procedure_retire"),
    path("procedures/<uuid:public_id>/restore/", views.procedure_restore, name="procedure_restore"),
    path("procedures/<uuid:public_id>/rules/new/", views.dependency_add, name="dependency_add"),
    path(
        "procedures/<uuid:public_id>/rules/<uuid:rule_id>/remove/",
        views.dependency_remove,
        name="dependency_remove",
    ),
    path("fee-schedules/", views.fee_schedule_list, name="fee_schedules"),
    path("fee-schedules/new/", views.fee_schedule_create, name="fee_schedule_create"),
    path("fee-schedules/standard/", views.fee_schedule_standard, name="fee_schedule_standard"),
    path("fee-schedules/<uuid:public_id>/", views.fee_schedule_detail, name="fee_schedule_detail"),
    path("fee-schedules/<uuid:public_id>/edit/", views.fee_schedule_edit, name="fee_schedule_edit"),
    path("fee-schedules/<uuid:public_id>/fees/", views.fee_schedule_fees, name="fee_schedule_fees"),
    path("fee-schedules/<uuid:public_id>/default/", views.fee_schedule_default, name="fee_schedule_default"),
    path("", include("clearplan.catalog.template_urls")),
]
