from django.urls import include, path

from clearplan.web import views as web_views

urlpatterns = [
    path("", web_views.home, name="home"),
    path("health/", web_views.health, name="health"),
    path("accounts/", include("allauth.urls")),
    path("join/", include("clearplan.accounts.join_urls")),
    path("", include("clearplan.pipeline.urls")),
    path("patients/", include("clearplan.patients.urls")),
    path("cases/", include("clearplan.plans.urls")),
    path("", include("clearplan.packs.urls")),
    path("notifications/", include("clearplan.notifications.urls")),
    path("conversations/", include("clearplan.messaging.urls")),
    # Delivery reports from the SMS provider and the mail relay: signed, no session.
    path("hooks/", include("clearplan.messaging.hook_urls")),
    # A patient's "stop emails" link.
    path("u/", include("clearplan.messaging.conversations.patient_urls")),
    path("insights/", include("clearplan.insights.urls")),
    path("settings/", include("clearplan.accounts.urls")),
    path("settings/audit/", include("clearplan.audit.urls")),
    path("settings/", include("clearplan.catalog.urls")),
]

handler403 = "clearplan.web.views.error_403"
handler404 = "clearplan.web.views.error_404"
handler500 = "clearplan.web.views.error_500"
