from django.urls import path

from clearplan.pipeline import checklist_views

urlpatterns = [
    path("cases/<uuid:case_id>/tasks/add/", checklist_views.task_add, name="task_add"),
    path("cases/<uuid:case_id>/tasks/start/", checklist_views.checklist_start, name="checklist_start"),
    path("cases/<uuid:case_id>/tasks/<uuid:task_id>/done/", checklist_views.task_done, name="task_done"),
    path("cases/<uuid:case_id>/tasks/<uuid:task_id>/", checklist_views.task_edit, name="task_edit"),
    path("cases/<uuid:case_id>/tasks/<uuid:task_id>/remove/", checklist_views.task_remove, name="task_remove"),
    path("settings/planning-checklist/", checklist_views.workflow_steps, name="workflow_steps"),
]
