from django.apps import AppConfig


class PlansConfig(AppConfig):
    """Treatment cases: the plan options and lines discussed, and the case's images."""

    name = "clearplan.plans"
    label = "plans"
    verbose_name = "Cases and treatment plans"
