from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Telling the team, in the app and by email, when a patient replies or something needs them."""

    name = "clearplan.notifications"
    label = "notifications"
    verbose_name = "Notifications"
