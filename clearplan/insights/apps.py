from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "clearplan.insights"
    label = "insights"
    verbose_name = "Insights"
