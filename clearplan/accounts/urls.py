from django.urls import path

from clearplan.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("profile/", views.profile, name="profile"),
    path("switch-clinic/", views.switch_clinic, name="switch_clinic"),
]
