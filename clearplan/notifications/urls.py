from django.urls import path

from clearplan.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read-all/", views.notifications_read_all, name="read_all"),
    path("email-choices/", views.email_choices, name="email_choices"),
    path("<uuid:public_id>/", views.notification_open, name="open"),
]
