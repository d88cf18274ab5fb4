from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "clearplan.messaging"
    label = "messaging"
    verbose_name = "Conversations and message channels"
