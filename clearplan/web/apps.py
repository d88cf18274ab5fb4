from django.apps import AppConfig


class WebConfig(AppConfig):
    """The staff interface's shared shell: layouts, design system, error pages."""

    name = "clearplan.web"
    label = "web"
