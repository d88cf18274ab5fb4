from django.urls import path

from clearplan.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("profile/", views.profile, name="profile"),
    path("switch-clinic/", views.switch_clinic, name="switch_clinic"),
    path("team/", views.team, name="team"),
    path("team/invite/", views.invite, name="invite"),
    path("team/two-factor/", views.two_factor_requirement, name="two_factor_requirement"),
    path("team/<uuid:user_id>/", views.member_edit, name="member_edit"),
    path("team/<uuid:user_id>/remove/", views.member_remove, name="member_remove"),
    path("team/invitations/<uuid:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("team/invitations/<uuid:invitation_id>/withdraw/", views.invitation_revoke, name="invitation_revoke"),
    path("clinic/", views.clinic_profile, name="clinic"),
    path("clinics/<uuid:clinic_id>/logo/", views.clinic_logo, name="clinic_logo"),
    path("organisation/", views.organisation, name="organisation"),
    path("organisation/clinics/new/", views.clinic_create, name="clinic_create"),
]
