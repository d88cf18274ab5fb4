from django.urls import path

from clearplan.pipeline import followup_views

urlpatterns = [
    path("settings/follow-up/", followup_views.follow_up_rules, name="follow_up_rules"),
    path("settings/follow-up/preview/", followup_views.follow_up_rules_preview, name="follow_up_rules_preview"),
]
